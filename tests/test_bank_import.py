"""Fast bank import: TYPE VALUE lines, threatexchange's formats and TCAP's hash list; bad
lines reported by number; duplicates skipped; withdrawn hashes removed; SQLite and
PostgreSQL (COPY)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from warding.app import Warding
from warding.banks import bulk, fingerprints
from warding.banks.service import iter_export, get_bank
from warding.matching.service import get_engine


def _pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _export(app: Warding, bank: str) -> list[tuple[list[tuple[str, str]], dict, str, bool]]:
    with app.transaction() as s:
        return [(r.signals, r.labels, r.provenance, r.enabled)
                for r in iter_export(s, get_bank(s, bank))]


def _import_lines_and_match(app: Warding, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk, "CHUNK", 7)  # many chunks, each committed with its feed row
    rng = random.Random(1)
    hashes = [_pdq(rng) for _ in range(40)]
    lines = [f"pdq {h}" for h in hashes]
    lines[5] = lines[5].upper().replace("PDQ", "pdq")  # upper-case hex is normalised
    lines += ["", "# a comment", "pdq nothex", "bogus", f"pdq {hashes[0]}",  # a repeat
              "md5 0123456789ABCDEF0123456789abcdef", "video_md5 " + "f" * 32,
              "url_md5 " + "a" * 32, "sha512 " + "ab" * 64, "nosuchtype abc"]
    path = tmp_path / "list.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with app.transaction() as s:  # an engine running before the import
        assert get_engine(app, s).lookup("pdq", hashes[3]) == []
    summary = bulk.import_path(app, "known", path, actor="test")
    assert summary.entries == 43 and summary.skipped == 1 and summary.removed == 0
    reasons = {e["input"]: e["reason"] for e in summary.errors}
    assert set(reasons) == {"list.txt:43", "list.txt:44", "list.txt:48", "list.txt:50"}
    assert "expected 64 hex characters" in reasons["list.txt:43"]
    assert "expected 'TYPE VALUE'" in reasons["list.txt:44"]
    assert "no Warding equivalent" in reasons["list.txt:48"]
    assert "unknown signal type 'nosuchtype'" in reasons["list.txt:50"]
    with app.transaction() as s:
        eng = get_engine(app, s)
        assert len(eng.lookup("pdq", hashes[3])) == 1
        assert len(eng.lookup("pdq", hashes[5])) == 1
        assert len(eng.lookup("md5", "0123456789abcdef0123456789abcdef")) == 1
        assert len(eng.lookup("md5", "f" * 32)) == 1
    again = bulk.import_path(app, "known", path, actor="test")
    assert again.entries == 0 and again.skipped == 44
    exported = _export(app, "known")
    assert len(exported) == 43
    assert ([("pdq", hashes[0])], {}, "", True) in exported


def test_import_lines_sqlite(wapp: Warding, tmp_path: Path,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    _import_lines_and_match(wapp, tmp_path, monkeypatch)


@pytest.mark.postgres
def test_import_lines_postgres(pg_app: Warding, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    _import_lines_and_match(pg_app, tmp_path, monkeypatch)


def test_threatexchange_formats(wapp: Warding, tmp_path: Path) -> None:
    rng = random.Random(2)
    a, b, c = _pdq(rng), _pdq(rng), _pdq(rng)
    lines = tmp_path / "te.txt"  # `threatexchange dataset -P`
    lines.write_text(f"pdq {a} 'Sample Collab' POSITIVE_CLASS tag1,tag2\n"
                     f"pdq {b} 'Sample Collab' NEGATIVE_CLASS\n"
                     "raw_text a known placeholder sentence for the test\n", encoding="utf-8")
    s1 = bulk.import_path(wapp, "te", lines, actor="test")
    assert s1.entries == 3 and not s1.errors
    rows = _export(wapp, "te")
    assert rows[0] == ([("pdq", a)], {"te_opinion": "POSITIVE_CLASS", "te_tags": "tag1,tag2"},
                       "threatexchange:Sample Collab", True)
    assert rows[1][3] is False  # a known false positive: kept, never matched
    assert {t for t, _ in rows[2][0]} == {"text", "text_near"}
    csv_file = tmp_path / "te.csv"  # `threatexchange dataset -P --csv`
    csv_file.write_text("signal_type,signal_str,collab,category,tags\n"
                        f"pdq,{c},Other,POSITIVE_CLASS,x y\n"
                        "video_md5,0123456789abcdef0123456789abcdef,Other,POSITIVE_CLASS,\n"
                        "trend_query,something,Other,POSITIVE_CLASS,\n", encoding="utf-8")
    s2 = bulk.import_path(wapp, "te", csv_file, actor="test")
    assert s2.entries == 2 and [e["input"] for e in s2.errors] == ["te.csv:4"]
    with wapp.transaction() as s:
        eng = get_engine(wapp, s)
        assert [r.labels["te_tags"] for r in eng.lookup("pdq", c)] == ["x,y"]
        assert eng.lookup("pdq", b) == []
        assert len(eng.lookup("pdq", a)) == 1


def _tcap(i: int, digest: str, algorithm: str, deleted: bool = False) -> dict:
    return {"hash_digest": digest, "algorithm": algorithm, "ideology": "Placeholder",
            "file_type": "mp4", "deleted": deleted, "updated_on": 1704901040.2, "id": i}


def test_tcap_hash_list(wapp: Warding, tmp_path: Path) -> None:
    rng = random.Random(3)
    pdq = _pdq(rng)
    page = {"count": 5, "next": None, "previous": None, "checkpoint": "1724856487.7,10594",
            "results": [_tcap(1, "0123456789abcdef0123456789abcdef", "MD5"),
                        _tcap(2, "ab" * 32, "SHA256"), _tcap(3, "cd" * 64, "SHA512"),
                        _tcap(4, pdq, "PDQ"), _tcap(5, "AAAA", "TMK")]}
    first = tmp_path / "tcap-page1.json"
    first.write_text(json.dumps(page), encoding="utf-8")
    s1 = bulk.import_path(wapp, "tcap", first, actor="test")  # detected by content
    assert s1.entries == 4
    assert [e["input"] for e in s1.errors] == ["tcap-page1.json:results[4]"]
    assert "TMK" in s1.errors[0]["reason"]
    with wapp.transaction() as s:
        (hit,) = get_engine(wapp, s).lookup("sha512", "cd" * 64)
    assert hit.labels == {"source": "tcap", "ideology": "Placeholder", "file_type": "mp4",
                          "tcap_id": "3"}
    assert hit.provenance == "Tech Against Terrorism TCAP hash list, updated 2024-01-10"
    # a later page as JSON lines: the SHA-256 is withdrawn, a new MD5 arrives
    later = tmp_path / "tcap-page2.jsonl"
    later.write_text(json.dumps(_tcap(2, "ab" * 32, "SHA256", deleted=True)) + "\n"
                     + json.dumps(_tcap(6, "e" * 32, "MD5")) + "\n", encoding="utf-8")
    s2 = bulk.import_path(wapp, "tcap", later, actor="test")
    assert s2.entries == 1 and s2.removed == 1
    listed = tmp_path / "tcap-list.json"
    listed.write_text(json.dumps([_tcap(7, "9" * 32, "MD5")]), encoding="utf-8")
    assert bulk.import_path(wapp, "tcap", listed, actor="test", fmt="tcap").entries == 1
    with wapp.transaction() as s:
        eng = get_engine(wapp, s)
        assert eng.lookup("sha256", "ab" * 32) == []
        assert len(eng.lookup("md5", "e" * 32)) == 1
        assert len(eng.lookup("pdq", pdq)) == 1


def test_fingerprint_set() -> None:
    fs = fingerprints.FingerprintSet()
    sigs = [("pdq", f"{i:064x}") for i in range(1000)]
    for start in range(0, 1000, 100):
        fs.add(*fingerprints.signal_fingerprints(sigs[start:start + 100]))
    assert len(fs) == 1000 and len(fs._levels) <= 4
    hi, lo = fingerprints.signal_fingerprints(sigs[::7] + [("pdq", "x"), ("md5", f"{3:064x}")])
    assert fs.contains(hi, lo).tolist() == [True] * len(sigs[::7]) + [False, False]


def test_bad_files(wapp: Warding, tmp_path: Path) -> None:
    from warding.errors import InvalidInput

    with pytest.raises(InvalidInput, match="no such file"):
        bulk.import_path(wapp, "x", tmp_path / "missing.txt", actor="t")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"pdq caf\xe9\n")
    with pytest.raises(InvalidInput, match="not valid UTF-8"):
        bulk.import_path(wapp, "x", bad, actor="t")
    broken = tmp_path / "broken.json"
    broken.write_text('[{"hash_digest": "x", "algorithm": "MD5"', encoding="utf-8")
    out = bulk.import_path(wapp, "x", broken, actor="t", fmt="tcap")
    assert out.entries == 0 and "not valid JSON" in out.errors[0]["reason"]


def test_hex_blocks_and_line_numbers(wapp: Warding, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Small blocks: uniform ones go through numpy, mixed ones line by line, and bad lines
    keep their numbers either way; CRLF, a BOM and upper-case hex are accepted."""
    from warding.banks import hexblocks

    monkeypatch.setattr(hexblocks, "BLOCK_BYTES", 300)
    rng = random.Random(3)
    hashes = [_pdq(rng) for _ in range(60)]
    lines = [f"pdq {h.upper() if i % 7 == 0 else h}" for i, h in enumerate(hashes)]
    lines.insert(25, "pdq 12345")  # line 26: too short
    lines.insert(40, "md5 " + "c" * 32)  # line 41: another type in a block
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode("ascii"))  # no final break
    with path.open("rb") as fh:
        kinds = [type(b).__name__ for b in hexblocks.read_blocks(
            fh, str(path), fingerprints.hex_lengths(wapp.signal_types), {})]
    assert "HexBlock" in kinds and "TextLines" in kinds
    summary = bulk.import_path(wapp, "blocks", path, actor="test")
    assert summary.entries == 61 and summary.skipped == 0
    assert [e["input"] for e in summary.errors] == ["crlf.txt:26"]
    exported = {sig for signals, *_ in _export(wapp, "blocks") for sig in signals}
    assert exported == {("pdq", h) for h in hashes} | {("md5", "c" * 32)}


def test_bad_utf8_offset_in_a_later_block(wapp: Warding, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from warding.banks import hexblocks
    from warding.errors import InvalidInput

    monkeypatch.setattr(hexblocks, "BLOCK_BYTES", 100)
    good = "".join(f"pdq {i:064x}\n" for i in range(5)).encode("ascii")
    path = tmp_path / "late.txt"
    path.write_bytes(good + b"# caf\xe9\n")
    with pytest.raises(InvalidInput, match=f"not valid UTF-8 at byte {len(good) + 5}"):
        bulk.import_path(wapp, "late", path, actor="test")


def test_checkpoint_behind_restores_autocheckpoint(wapp: Warding) -> None:
    from sqlalchemy import text

    from warding.db.engine import checkpoint_behind

    with checkpoint_behind(wapp.engine) as conn:
        assert conn is not None
        assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        conn.execute(text("UPDATE banks SET version = version WHERE 0"))
        conn.commit()
    with wapp.engine.connect() as again:
        assert again.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
