"""The CLI contract, run in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.cli_helpers import CLI
from warding.demo import content


@pytest.fixture
def cli(tmp_path: Path) -> CLI:
    c = CLI(tmp_path)
    c.run("init")
    return c


def _image(tmp: Path, name: str = "known.png", seed: int = 7) -> Path:
    p = tmp / name
    p.write_bytes(content.png_bytes(content.make_image(seed)))
    return p


def test_hash_json(cli: CLI, tmp_path: Path) -> None:
    out = cli.json("hash", str(_image(tmp_path)), "--json")
    types = [s["type"] for s in out["signals"]]
    assert {"md5", "sha256", "pdq"} <= set(types)
    assert all(isinstance(s["value"], str) and s["value"] for s in out["signals"])


def test_bank_create_add_list_match(cli: CLI, tmp_path: Path) -> None:
    cli.run("bank", "create", "known")
    cli.run("bank", "add", "known", str(_image(tmp_path)), "--label", "group=placeholder",
            "--label", "category=glorification")
    cli.run("bank", "add", "known", "--text", content.KNOWN_TEXTS[1])
    banks = cli.json("bank", "list", "--json")["banks"]
    assert banks[0]["name"] == "known" and banks[0]["entries"] == 2

    copy = _image(tmp_path, "copy.png")
    matches = cli.json("match", str(copy), "--json")["matches"]
    assert {m["signal_type"] for m in matches} >= {"md5", "sha256", "pdq"}
    m = matches[0]
    assert m["bank"] == "known" and isinstance(m["entry_id"], str)
    assert m["labels"] == {"group": "placeholder", "category": "glorification"}
    assert isinstance(m["distance"], int | float)

    near = cli.json("match", "--text", content.KNOWN_TEXTS[1].replace("forty", "thirty"), "--json")
    # a one-word edit: a near-duplicate, and (same meaning) a semantic match too
    assert [x["signal_type"] for x in near["matches"]] == ["text_near", "text_semantic"]
    exact = cli.json("match", "--text", content.KNOWN_TEXTS[1].upper(), "--json")
    assert "text" in {x["signal_type"] for x in exact["matches"]}
    none = cli.json("match", "--text", "an unrelated sentence about trains and stations", "--json")
    assert none == {"matches": []}
    other = cli.json("match", str(_image(tmp_path, "other.png", seed=99)), "--json")
    assert other == {"matches": []}


def test_export_import_roundtrip(cli: CLI, tmp_path: Path) -> None:
    cli.run("bank", "create", "a")
    cli.run("bank", "add", "a", str(_image(tmp_path)), "--label", "group=g1", "--provenance", "p1")
    for fmt in ("jsonl", "csv"):
        exported = cli.run("bank", "export", "a", "--format", fmt).stdout
        f = tmp_path / f"a.{fmt}"
        f.write_text(exported, encoding="utf-8")
        out = cli.json("bank", "import", f"b-{fmt}", str(f), "--json")
        assert out["entries"] == 1 and out["errors"] == []
        again = cli.json("bank", "import", f"b-{fmt}", str(f), "--json")
        assert again["entries"] == 0 and again["skipped"] == 1
        back = [json.loads(line) for line in
                cli.run("bank", "export", f"b-{fmt}").stdout.splitlines()]
        assert back[0]["labels"]["group"] == "g1" and back[0]["provenance"] == "p1"
        assert {s["type"] for s in back[0]["signals"]} == {"md5", "sha256", "sha512", "pdq"}


def test_import_lines_reports_bad_lines(cli: CLI, tmp_path: Path) -> None:
    f = tmp_path / "list.txt"
    f.write_text("md5 0123456789abcdef0123456789abcdef\npdq nothex\nbogus\n", encoding="utf-8")
    out = cli.json("bank", "import", "l", str(f), "--json")
    assert out["entries"] == 1
    assert [e["input"] for e in out["errors"]] == ["list.txt:2", "list.txt:3"]


def test_scan_summary_and_bad_inputs(cli: CLI, tmp_path: Path) -> None:
    inputs = content.write_stream(tmp_path / "s", content.make_image(7))
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"id": "ok1", "text": "fine"}\n{broken\n\xff\xfe\n{"id": "ok2", "text": "also fine"}\n')
    out = cli.json("scan", *map(str, inputs), str(bad), str(tmp_path / "missing.jsonl"),
                   "--source", "t", "--json")
    assert out["items"] == len(content.ORDINARY_POSTS) + 5 + 2
    assert isinstance(out["cases_opened"], int)
    reasons = {e["input"]: e["reason"] for e in out["errors"]}
    assert any(k.endswith("bad.jsonl:2") for k in reasons)
    assert any(k.endswith("bad.jsonl:3") for k in reasons)
    assert any("missing.jsonl" in k for k in reasons)
    again = cli.json("scan", *map(str, inputs), "--source", "t", "--json")
    assert again["items"] == 0


def test_classify_without_model_is_a_clear_error(cli: CLI) -> None:
    result = cli.run("classify", "--text", "hello", "--json", code=1)
    assert "warding model train" in result.stderr
    assert "Traceback" not in result.stderr


def test_errors_are_one_line(cli: CLI, tmp_path: Path) -> None:
    r = cli.run("bank", "add", "nope", "--text", "x y z w", code=1)
    assert "no bank named 'nope'" in r.stderr
    r = cli.run("hash", str(tmp_path / "missing.png"), code=1)
    assert "not a file" in r.stderr
    corrupt = tmp_path / "c.png"
    corrupt.write_bytes(content.png_bytes(content.make_image(1))[:200])
    r = cli.run("hash", str(corrupt), "--json", code=1)
    assert "c.png" in r.stderr and "Traceback" not in r.stderr


def test_user_and_audit_verify_detects_tampering(cli: CLI) -> None:
    cli.run("user", "create", "rev", "--role", "reviewer", "--password-stdin",
            input="a-long-password-123\n")
    users = cli.json("user", "list", "--json")["users"]
    assert users == [{"username": "rev", "role": "reviewer", "active": True}]
    assert cli.json("audit", "verify", "--json")["ok"] is True
    engine = create_engine(cli.db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE id = 2"))
    engine.dispose()
    r = cli.run("audit", "verify", code=1)
    assert "event 2" in r.stderr
