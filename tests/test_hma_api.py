"""The HMA-compatible API: HMA's paths, parameters and response shapes (from
facebook/ThreatExchange hasher-matcher-actioner), plus labels and provenance, and /status."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests import videogen
from tests.test_web import PASSWORD, png_bytes
from warding.accounts.service import create_api_key, create_user
from warding.app import Warding
from warding.web.factory import create_app


def _pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _flip(value: str, bits: int, rng: random.Random) -> str:
    x = int(value, 16)
    for b in rng.sample(range(256), bits):
        x ^= 1 << b
    return f"{x:064x}"


@pytest.fixture
def hma(wapp: Warding) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    with wapp.transaction() as s:
        create_user(s, "hma", "api", PASSWORD, actor="test")
        create_user(s, "viewer", "analyst", PASSWORD, actor="test")
        key = create_api_key(s, "hma", actor="test")
        viewer = create_api_key(s, "viewer", actor="test")
    with TestClient(create_app(wapp)) as client:  # runs the lifespan: the index keeper
        yield client, {"Authorization": f"Bearer {key}"}, {"Authorization": f"Bearer {viewer}"}


def test_curator_matcher_round_trip(hma: tuple[TestClient, dict[str, str], dict[str, str]]
                                    ) -> None:
    client, auth, _ = hma
    rng = random.Random(1)
    # /c/banks: create, list, show
    r = client.post("/c/banks", json={"name": "KNOWN_A"}, headers=auth)
    assert r.status_code == 201 and r.json() == {"name": "KNOWN_A", "matching_enabled_ratio": 1.0}
    assert client.post("/c/banks", json={"name": "KNOWN_A"}, headers=auth).status_code == 403
    assert client.post("/c/banks", json={"name": "OFF", "enabled": False},
                       headers=auth).json()["matching_enabled_ratio"] == 0.0
    assert client.post("/c/banks", json={"name": "HALF", "enabled_ratio": 0.5},
                       headers=auth).json()["matching_enabled_ratio"] == 0.5
    for bad in ({"name": "lower"}, {"name": "1ST"}, {"name": "X", "enabled_ratio": 2},
                {"name": "X", "enabled_ratio": "many"}):
        r = client.post("/c/banks", json=bad, headers=auth)
        assert r.status_code == 400 and r.json()["message"], bad
    assert client.get("/c/banks", headers=auth).json() == [
        {"name": "HALF", "matching_enabled_ratio": 0.5},
        {"name": "KNOWN_A", "matching_enabled_ratio": 1.0},
        {"name": "OFF", "matching_enabled_ratio": 0.0}]
    assert client.get("/c/bank/KNOWN_A", headers=auth).json()["name"] == "KNOWN_A"
    missing = client.get("/c/bank/NOPE", headers=auth)
    assert missing.status_code == 404 and "not found" in missing.json()["message"]

    # /c/bank/<name>/signal: hashes directly, with Warding's labels and provenance
    h = _pdq(rng)
    r = client.post("/c/bank/KNOWN_A/signal", headers=auth,
                    json={"pdq": h, "labels": {"group": "placeholder"}, "provenance": "list X"})
    assert r.status_code == 200
    content_id = r.json()["id"]
    assert r.json() == {"id": content_id, "signals": {"pdq": h}}
    bad = client.post("/c/bank/KNOWN_A/signal", headers=auth, json={"pdq": "nothex"})
    assert bad.status_code == 400 and "Invalid pdq signal" in bad.json()["message"]
    assert client.post("/c/bank/KNOWN_A/signal", headers=auth,
                       json={"tmk": "x"}).status_code == 400
    off_id = client.post("/c/bank/OFF/signal", headers=auth, json={"pdq": h}).json()["id"]

    # /m/lookup: enabled banks only; distance as a string; labels and provenance when asked
    near = _flip(h, 7, rng)
    r = client.get("/m/lookup", params={"signal_type": "pdq", "signal": near}, headers=auth)
    assert r.status_code == 200
    assert r.json() == {"KNOWN_A": [{"bank_content_id": content_id, "distance": "7"}]}
    r = client.get("/m/lookup", params={"signal_type": "pdq", "signal": near,
                                        "include_labels": "true"}, headers=auth)
    assert r.json() == {"KNOWN_A": [{"bank_content_id": content_id, "distance": "7",
                                     "labels": {"group": "placeholder"},
                                     "provenance": "list X"}]}
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": _pdq(rng)},
                      headers=auth).json() == {}
    only = client.get("/m/lookup", headers=auth,
                      params={"signal_type": "pdq", "signal": near, "banks": "OFF"})
    assert only.json() == {}
    # /m/raw_lookup: disabled banks too, ids or objects
    raw = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": near},
                     headers=auth).json()
    assert sorted(raw["matches"]) == sorted([content_id, off_id])
    with_d = client.get("/m/raw_lookup", headers=auth, params={
        "signal_type": "pdq", "signal": near, "include_distance": "true", "banks": "KNOWN_A"})
    assert [(m["bank_content_id"], m["distance"]) for m in with_d.json()["matches"]] == \
        [(content_id, "7")]
    for params, message in [({"signal": near}, "signal_type is required"),
                            ({"signal_type": "pdq"}, "signal is required"),
                            ({"signal_type": "nope", "signal": near}, "No such SignalType"),
                            ({"signal_type": "pdq", "signal": "zz"}, "invalid signal")]:
        r = client.get("/m/raw_lookup", params=params, headers=auth)
        assert r.status_code == 400 and message in r.json()["message"]
    off = client.get("/m/lookup", params={"url": "https://example.org/x.jpg"}, headers=auth)
    assert off.status_code == 403 and "WARDING_URL_FETCH" in off.json()["message"]

    # /m/index/status
    status = client.get("/m/index/status", headers=auth).json()
    assert status["pdq"]["present"] is True and status["pdq"]["size"] == 2
    assert status["pdq"]["built_to"] > 0
    assert status["url"] == {"present": False, "built_to": -1, "size": 0}
    assert set(client.get("/m/index/status", params={"signal_type": "pdq"},
                          headers=auth).json()) == {"pdq"}
    assert client.get("/m/index/status", params={"signal_type": "x"},
                      headers=auth).status_code == 400

    # /c/bank/<name>/content/<id>: show, disable, enable, delete
    shown = client.get(f"/c/bank/KNOWN_A/content/{content_id}",
                       params={"include_signals": "true"}, headers=auth).json()
    assert shown == {"id": content_id, "disable_until_ts": 1, "collab_metadata": {},
                     "original_media_uri": None, "signals": {"pdq": h},
                     "bank": {"name": "KNOWN_A", "matching_enabled_ratio": 1.0}}
    shown = client.get(f"/c/bank/KNOWN_A/content/{content_id}",
                       params={"include_labels": "true"}, headers=auth).json()
    assert shown["labels"] == {"group": "placeholder"} and shown["provenance"] == "list X"
    r = client.put(f"/c/bank/KNOWN_A/content/{content_id}", json={"disable_until_ts": 0},
                   headers=auth)
    assert r.json()["disable_until_ts"] == 0
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": h},
                      headers=auth).json() == {}
    client.put(f"/c/bank/KNOWN_A/content/{content_id}", json={"disable_until_ts": 1},
               headers=auth)
    assert "KNOWN_A" in client.get("/m/lookup", params={"signal_type": "pdq", "signal": h},
                                   headers=auth).json()
    assert client.delete(f"/c/bank/KNOWN_A/content/{content_id}",
                         headers=auth).json() == {"deleted": 1}
    assert client.get(f"/c/bank/KNOWN_A/content/{content_id}", headers=auth).status_code == 404

    # /c/bank/<name>: rename and disable, delete
    r = client.put("/c/bank/OFF", json={"name": "RENAMED", "enabled": True}, headers=auth)
    assert r.json() == {"name": "RENAMED", "matching_enabled_ratio": 1.0}
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": h},
                      headers=auth).json() == {"RENAMED": [
                          {"bank_content_id": off_id, "distance": "0"}]}
    assert client.delete("/c/bank/RENAMED", headers=auth).json() == {"message": "Done"}
    assert client.delete("/c/bank/RENAMED", headers=auth).json() == {"message": "Done"}
    assert client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": h},
                      headers=auth).json() == {"matches": []}


def test_hasher_and_file_lookup(hma: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, auth, _ = hma
    image = png_bytes(3)
    r = client.post("/h/hash", files={"photo": ("shape.png", image, "image/png")}, headers=auth)
    assert r.status_code == 200
    assert set(r.json()) == {"pdq"}  # HMA's hashes of a photo; others when asked
    every = client.post("/h/hash", params={"types": "all"}, headers=auth,
                        files={"photo": ("shape.png", image, "image/png")}).json()
    assert set(every) == {"md5", "sha256", "sha512", "pdq"}
    assert client.post("/h/hash", params={"types": "pdq,sha256"}, headers=auth,
                       files={"photo": ("shape.png", image, "image/png")}).json() == {
                           "pdq": every["pdq"], "sha256": every["sha256"]}
    clip = videogen.video(5, seconds=3)
    video = client.post("/h/hash", files={"video": ("clip.mp4", clip, "video/mp4")},
                        headers=auth).json()
    assert set(video) == {"video_md5", "vpdq"}  # HMA's hashes of a video
    assert video["video_md5"] == hashlib.md5(clip).hexdigest()
    assert len(json.loads(video["vpdq"])) == 3  # one frame a second, threatexchange's format
    wrong = client.post("/h/hash", params={"types": "pdq"}, headers=auth,
                        files={"video": ("clip.mp4", clip, "video/mp4")})
    assert wrong.status_code == 400 and "does not apply" in wrong.json()["message"]
    broken = client.post("/h/hash", files={"video": ("clip.mp4", b"placeholder bytes",
                                                     "video/mp4")}, headers=auth)
    assert broken.status_code == 400 and "video" in broken.json()["message"]
    assert client.post("/h/hash", files={"audio": ("a", b"x", "audio/x")},
                       headers=auth).status_code == 400
    assert client.get("/h/hash", params={"url": "https://example.org/a.png"},
                      headers=auth).status_code == 403

    client.post("/c/banks", json={"name": "FILES"}, headers=auth)
    added = client.post("/c/bank/FILES/content", headers=auth,
                        files={"photo": ("shape.png", image, "image/png")},
                        data={"metadata": '{"content_id": "c-1", "json": {"k": 1}}'})
    assert added.status_code == 200, added.text
    assert added.json()["signals"] == {"pdq": every["pdq"]}
    found = client.post("/m/lookup", files={"photo": ("again.png", image, "image/png")},
                        headers=auth).json()
    entry = added.json()["id"]
    assert found == {"pdq": {"FILES": [{"bank_content_id": entry, "distance": "0"}]}}
    shown = client.get(f"/c/bank/FILES/content/{entry}", headers=auth).json()
    assert shown["metadata"] == {"content_id": "c-1", "json": {"k": 1}}
    again = client.post("/c/bank/FILES/content", headers=auth,  # HMA: a second entry
                        files={"photo": ("shape.png", image, "image/png")}, data={"note": "n"})
    assert again.status_code == 200 and again.json()["id"] != entry
    assert client.get(f"/c/bank/FILES/content/{again.json()['id']}",
                      headers=auth).json()["note"] == "n"
    assert client.post("/c/bank/FILES/content", params={"url": "https://example.org/x"},
                       headers=auth).status_code == 403


def test_auth_and_roles(hma: tuple[TestClient, dict[str, str], dict[str, str]]) -> None:
    client, auth, viewer = hma
    r = client.get("/m/lookup", params={"signal_type": "pdq", "signal": "0" * 64})
    assert r.status_code == 401 and "message" in r.json()
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": "0" * 64},
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": "0" * 64},
                      headers=viewer).status_code == 200  # analysts may match
    assert client.post("/c/banks", json={"name": "X"}, headers=viewer).status_code == 403
    assert client.get("/c/banks", headers=viewer).status_code == 200


def test_status_reports_the_index(hma: tuple[TestClient, dict[str, str], dict[str, str]]
                                  ) -> None:
    client, _, _ = hma
    keeper = client.app.state.index_keeper  # type: ignore[attr-defined]
    for _ in range(200):  # the keeper opens the engine in the background
        if keeper.ready:
            break
        import time

        time.sleep(0.05)
    r = client.get("/status")
    assert r.status_code == 200 and r.json()["index"]["state"] == "ready"
    text = client.get("/status", headers={"Accept": "text/plain"})
    assert text.status_code == 200 and text.text == "I-AM-ALIVE"
    keeper.last_ok -= 3600  # as if the refreshes had stopped an hour ago
    stale = client.get("/status", headers={"Accept": "text/plain"})
    assert stale.status_code == 503 and stale.text == "INDEX-STALE"
    assert client.get("/status").json()["status"] == "index-stale"


def test_videos_through_hmas_api(hma: tuple[TestClient, dict[str, str], dict[str, str]]
                                 ) -> None:
    """A video added to a bank as content, then looked up by its vPDQ (threatexchange's JSON,
    as HMA's clients send it) and hashed and matched as an upload (issue 15)."""
    client, auth, _ = hma
    assert client.post("/c/banks", json={"name": "VIDEOS"}, headers=auth).status_code == 201
    known = videogen.video(1, seconds=6)
    added = client.post("/c/bank/VIDEOS/content", headers=auth,
                        files={"video": ("known.mp4", known, "video/mp4")})
    assert added.status_code == 200, added.text
    content_id = added.json()["id"]
    shown = client.get(f"/c/bank/VIDEOS/content/{content_id}", headers=auth,
                       params={"include_signals": "true"}).json()
    assert json.loads(shown["signals"]["vpdq"]) == json.loads(added.json()["signals"]["vpdq"])
    copy = videogen.video(1, seconds=6, edit=videogen.letterbox, start=2)
    hashed = client.post("/h/hash", files={"video": ("copy.mp4", copy, "video/mp4")},
                         headers=auth).json()
    spaced = json.dumps(json.loads(hashed["vpdq"]))  # threatexchange writes ", "
    r = client.get("/m/lookup", params={"signal_type": "vpdq", "signal": spaced}, headers=auth)
    assert r.status_code == 200
    assert [m["bank_content_id"] for m in r.json()["VIDEOS"]] == [content_id]
    other = videogen.video(2, seconds=6)
    other_hash = client.post("/h/hash", files={"video": ("o.mp4", other, "video/mp4")},
                             headers=auth).json()["vpdq"]
    assert client.get("/m/lookup", params={"signal_type": "vpdq", "signal": other_hash},
                      headers=auth).json() == {}
    bad = client.get("/m/lookup", params={"signal_type": "vpdq", "signal": "[1,2]"},
                     headers=auth)
    assert bad.status_code == 400
