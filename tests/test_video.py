"""Videos (issue 15): vPDQ in threatexchange's format, black borders trimmed, HMA's
video-level matching, and videos through every path (bank add, match, hash, scan,
POST /api/items, import/export, retroactive matching). Videos are generated (tests/videogen)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests import videogen
from tests.cli_helpers import CLI
from tests.test_web import client_for, w  # noqa: F401 - fixtures: the console on one app
from warding.signals.base import SignalError
from warding.signals.vpdq import VpdqFrame, VPDQSignal, from_json


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    made = {
        "known": videogen.video(1, seconds=8),
        "letterboxed": videogen.video(1, seconds=8, edit=videogen.letterbox),
        "pillarboxed": videogen.video(1, seconds=8, edit=videogen.pillarbox, container="webm"),
        "excerpt": videogen.video(1, seconds=8, start=3),
        "smaller": videogen.video(1, seconds=8, scale=(112, 84), bitrate=60_000),
        "unrelated": videogen.video(2, seconds=8),
        "animation": videogen.gif(3),
    }
    out = {}
    for name, data in made.items():
        path = folder / (f"{name}.gif" if name == "animation" else
                         f"{name}.webm" if name == "pillarboxed" else f"{name}.mp4")
        path.write_bytes(data)
        out[name] = path
    return out


def test_vpdq_format_is_threatexchanges(clips: dict[str, Path]) -> None:
    value = VPDQSignal().compute(clips["known"].read_bytes())
    assert value is not None
    items = json.loads(value)
    assert len(items) == 8  # one frame a second
    for n, item in enumerate(items):
        pdq, quality, timestamp = item.split(",")  # threatexchange's VpdqCompactFeature.__str__
        assert len(pdq) == 64 and 0 <= int(quality) <= 100 and float(timestamp) == n
    assert VPDQSignal().validate(json.dumps(items, indent=1)) == value  # spaces are fine


def test_borders_are_trimmed_before_hashing(clips: dict[str, Path]) -> None:
    st = VPDQSignal()
    known = from_json(st.compute(clips["known"].read_bytes()) or "")
    for name in ("letterboxed", "pillarboxed"):
        copy = from_json(st.compute(clips[name].read_bytes()) or "")
        for a, b in zip(known, copy, strict=True):
            assert st.distance(str(a), str(b)) <= 16, name


def test_animated_gif_and_broken_video() -> None:
    st = VPDQSignal()
    assert len(from_json(st.compute(videogen.gif(3, frames=6, duration_ms=1000)) or "")) == 6
    with pytest.raises(SignalError, match="video"):
        st.compute(b"placeholder bytes, not a video")
    with pytest.raises(SignalError):
        st.compute(videogen.video(1, seconds=3)[:3000])  # truncated
    with pytest.raises(ValueError):
        VpdqFrame.parse("ab" * 32 + ",101,0.0")


def test_limits_name_the_setting() -> None:
    from warding.video.frames import VideoLimits

    st = VPDQSignal()
    st.limits = VideoLimits(max_seconds=2.0)
    with pytest.raises(SignalError, match="video_max_seconds"):
        st.compute(videogen.video(1, seconds=4))


def _matches(cli: CLI, path: Path) -> list[dict[str, Any]]:
    return [m for m in cli.json("match", "--json", str(path))["matches"]
            if m["signal_type"] == "vpdq"]


def test_bank_add_and_match_copies(tmp_path: Path, clips: dict[str, Path]) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    cli.run("bank", "create", "videos")
    cli.run("bank", "add", "videos", str(clips["known"]), str(clips["animation"]))
    for name in ("letterboxed", "pillarboxed", "excerpt", "smaller"):
        found = _matches(cli, clips[name])
        assert len(found) == 1, name
        frames = found[0]["frames"]
        assert frames["query_match_percent"] >= 80
        assert frames["query_frames"] and frames["bank_frames"]  # which frames matched
    excerpt = _matches(cli, clips["excerpt"])[0]["frames"]
    assert excerpt["bank_match_percent"] < 100 and min(excerpt["bank_frames"]) >= 2
    assert _matches(cli, clips["unrelated"]) == []
    assert len(_matches(cli, clips["animation"])) == 1
    text = cli.run("match", str(clips["letterboxed"])).stdout
    assert "frames: 100.0% of the video" in text
    hashed = cli.json("hash", "--json", str(clips["known"]))["signals"]
    assert [s["type"] for s in hashed].count("vpdq") == 1  # threatexchange's one value


def test_percentages_are_settings(tmp_path: Path, clips: dict[str, Path],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WARDING_VPDQ_INDEX_MATCH_PERCENT", "90")
    cli = CLI(tmp_path)
    cli.run("init")
    cli.run("bank", "create", "videos")
    cli.run("bank", "add", "videos", str(clips["known"]))
    assert _matches(cli, clips["excerpt"]) == []  # 5 of the 8 known frames: under 90 %
    assert len(_matches(cli, clips["letterboxed"])) == 1


def test_import_export_threatexchange_and_tcap(tmp_path: Path, clips: dict[str, Path]) -> None:
    cli = CLI(tmp_path)
    cli.run("init")
    value = next(s["value"] for s in cli.json("hash", "--json", str(clips["known"]))["signals"]
                 if s["type"] == "vpdq")
    te = tmp_path / "te.txt"
    te.write_text(f"vpdq {json.dumps(json.loads(value))} 'placeholder collab' "
                  "POSITIVE_CLASS tag1\n")
    tcap = tmp_path / "tcap.json"
    tcap.write_text(json.dumps({"results": [{"hash_digest": value, "algorithm": "VPDQ",
                                              "id": 7}]}))
    cli.run("bank", "import", "te", str(te))
    cli.run("bank", "import", "tcap", str(tcap), "--format", "tcap")
    banks = {m["bank"] for m in _matches(cli, clips["letterboxed"])}
    assert banks == {"te", "tcap"}
    exported = cli.run("bank", "export", "te", "--format", "lines").stdout.strip().splitlines()
    assert exported == [f"vpdq {value}"]
    csv_out = cli.run("bank", "export", "tcap", "--format", "csv").stdout
    assert csv_out.count("vpdq") == 1
    again = tmp_path / "again.txt"
    again.write_text(exported[0] + "\n")
    assert "0 rejected" in cli.run("bank", "import", "te", str(again)).stdout
    assert len([m for m in _matches(cli, clips["known"]) if m["bank"] == "te"]) == 1


def test_scan_api_items_and_retro(tmp_path: Path, clips: dict[str, Path]) -> None:
    from fastapi.testclient import TestClient

    from tests.test_web import api_key
    from warding.app import Warding
    from warding.config import Settings
    from warding.web.factory import create_app

    cli = CLI(tmp_path)
    cli.run("init")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "copy.mp4").write_bytes(clips["letterboxed"].read_bytes())
    (folder / "broken.mp4").write_bytes(b"\0\0\0\x18ftypmp42 placeholder, not a video")
    summary = cli.json("scan", "--json", str(folder))
    assert summary["rejected"] == 1 and "broken.mp4" in json.dumps(summary)
    cli.run("bank", "create", "videos")
    added = cli.run("bank", "add", "videos", str(clips["known"])).stdout
    assert "1 matches" in added  # the scanned copy, matched retroactively

    app = Warding(Settings(database_url=cli.db, data_dir=cli.data_dir, semantic_matching=False))
    from tests.test_web import PASSWORD
    from warding.accounts.service import create_user

    with app.transaction() as session:
        create_user(session, "api", "api", PASSWORD, actor="test")
    with TestClient(create_app(app)) as client:
        media = [{"filename": "clip.webm",
                  "data_b64": base64.b64encode(clips["pillarboxed"].read_bytes()).decode()}]
        r = client.post("/api/items", headers=api_key(app, "api"), json={
            "source": "uploads", "items": [{"id": "v1", "text": "placeholder", "media": media},
                                           {"id": "v2", "media": [{"filename": "x.mp4",
                                            "data_b64": base64.b64encode(b"\0\0\0\x18ftypmp42 junk").decode()}]}]})
        assert r.status_code == 200, r.text
        first, second = r.json()["items"]
        assert first["status"] == "accepted" and second["status"] == "rejected"
        assert "video" in second["error"]
        item = client.get("/api/items/uploads/v1", headers=api_key(app, "api")).json()
        assert "vpdq" in {s["type"] for s in item["signals"]}
        assert any(m["signal_type"] == "vpdq" for m in item["matches"])


def test_case_view_shows_key_frames_blurred_and_which_matched(
        w: Any, client_for: Any, clips: dict[str, Path]) -> None:  # noqa: F811 - fixtures
    import re

    from sqlalchemy import select

    from tests.test_web import logged_in
    from warding.banks.service import add_records, create_bank, records_for_files
    from warding.db.models import Case, ItemMedia
    from warding.pipeline.scan import scan_paths

    with w.transaction() as session:
        bank = create_bank(session, "videos", actor="test")
        add_records(session, bank, records_for_files([clips["known"]], w.signal_types, {},
                                                     "placeholder", w.settings.max_file_bytes),
                    w.signal_types, actor="test", how="test")
    scan_paths(w, [clips["excerpt"]], "local")
    with w.transaction() as session:
        case = session.execute(select(Case)).scalar_one()
        sha = session.execute(select(ItemMedia.sha256)).scalar_one()
    client, _ = logged_in(client_for, "reviewer")
    page = client.get(f"/cases/{case.id}").text
    frames = re.findall(r'<img class="media blurred grey" id="media-1-f\d+" '
                        rf'src="/media/{sha}/frame/(\d+)"', page)
    assert frames == ["0", "1000", "2000", "3000", "4000"]  # blurred and grey by default
    assert page.count('class="key-frame matched"') == 5 and "matched videos" in page, page
    frame = client.get(f"/media/{sha}/frame/2000")
    assert frame.status_code == 200 and frame.headers["content-type"] == "image/jpeg"
    assert frame.headers["cache-control"] == "no-store"
    assert client.get(f"/media/{'0' * 64}/frame/0").status_code == 404



def test_json_api_hash_and_match(w: Any, clips: dict[str, Path]) -> None:  # noqa: F811
    from fastapi.testclient import TestClient

    from tests.test_web import api_key
    from warding.web.factory import create_app

    with TestClient(create_app(w)) as client:
        key = api_key(w, "api")
        hashed = client.post("/api/hash", headers=key, files={
            "file": ("known.mp4", clips["known"].read_bytes(), "video/mp4")}).json()
        vpdq = [s for s in hashed["signals"] if s["type"] == "vpdq"]
        assert len(vpdq) == 1 and len(json.loads(vpdq[0]["value"])) == 8
        admin = api_key(w, "admin")
        assert client.post("/api/banks", headers=admin, json={"name": "videos"}).status_code \
            in (200, 201)
        added = client.post("/api/banks/videos/entries", headers=admin,
                            json={"hashes": [{"type": "vpdq", "value": vpdq[0]["value"]}]})
        assert added.status_code in (200, 201), added.text
        excerpt = json.dumps([f for f in json.loads(vpdq[0]["value"])][3:])
        found = client.post("/api/match", headers=key, json={
            "signals": [{"type": "vpdq", "value": excerpt}]}).json()["matches"]
        assert len(found) == 1 and found[0]["frames"]["query_match_percent"] == 100.0


def test_videos_on_postgresql(pg_app: Any, clips: dict[str, Path]) -> None:
    """Frames stored, indexed, matched and matched retroactively on PostgreSQL too."""
    from sqlalchemy import select

    from warding.banks.service import add_records, create_bank, records_for_files
    from warding.db.models import Match
    from warding.incidents.runs import run_retro
    from warding.pipeline.scan import scan_paths

    app = pg_app
    scan_paths(app, [clips["letterboxed"]], "local")  # stored before the bank knows the video
    with app.transaction() as session:
        bank = create_bank(session, "videos", actor="test")
        add_records(session, bank, records_for_files([clips["known"]], app.signal_types, {},
                                                     "placeholder", app.settings.max_file_bytes),
                    app.signal_types, actor="test", how="test")
        bank_id = bank.id
    from datetime import UTC, datetime, timedelta

    since = datetime.now(UTC) - timedelta(days=1)
    summary = run_retro(app, bank_id, trigger="test", since=since)
    assert summary.matches == 1
    scan_paths(app, [clips["excerpt"]], "local")
    with app.transaction() as session:
        kinds = sorted(session.execute(select(Match.signal_type)).scalars())
    assert kinds == ["vpdq", "vpdq"]
