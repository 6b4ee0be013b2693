"""Video benchmark (issue 15): ``make bench-video``.

1. **Recall and false matches.** Known clips (20 s, 320x240, 15 fps): generated scenes (moving
   shapes over gradients and noise, tests/videogen) and slow pans and zooms over matplotlib's
   sample images (the library's own sample data: a photograph, elevation and bathymetry maps
   rendered with colour maps). Each is copied as uploaders copy: re-encoded smaller at a low
   bitrate, trimmed to a 10-second excerpt, with a banner over the bottom, letterboxed and
   pillarboxed. Every copy and every unrelated clip is looked up in a bank of the known
   clips through Warding's engine; the same hashes are also decided by threatexchange's own
   brute-force vPDQ matcher, and letterboxed copies are hashed a second time without border
   trimming, to show what trimming brings.
2. **Lookup time** of a 60-second video against a bank of BENCH_VIDEO_BANK videos (10,000) of
   60 frames each (600,000 frame hashes): Warding's engine (frames in the multi-index Hamming
   index, video-level decision after) against threatexchange's ``VPDQIndex`` (faiss), both
   built from the same hashes in the same run.
3. **Hashing speed**: seconds of video hashed per second, at two sizes.

``--docs`` writes the section of docs/benchmarks.md. threatexchange's vPDQ modules import
Meta's ``vpdq`` package (its hasher) at the top although matching never calls it; ``vpdq``
does not build here (it needs the FFmpeg development libraries), so an empty module stands in
for it when it is missing.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from benchmarks.common import ROOT, env_int, load_average, machine, percentile
from benchmarks.sections import put_section
from tests import videogen

FPS = 15
SIZE = (320, 240)
SECONDS = 20
SHAPES = 16  # moving shapes per generated scene (fewer leave frames too plain for PDQ)
EDITS = ("re-encoded", "trimmed", "bannered", "letterboxed", "pillarboxed")


# -- the clips --------------------------------------------------------------------------
def _sample_images() -> list[Image.Image]:
    """matplotlib's sample data as pictures (shipped with the library, nothing downloaded)."""
    from matplotlib import cbook, colormaps

    out = []
    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        out.append(Image.open(fh).convert("RGB"))
    for name, key, cmap in (("jacksboro_fault_dem.npz", "elevation", "terrain"),
                            ("topobathy.npz", "topo", "gist_earth")):
        data = cbook.get_sample_data(name)  # an NpzFile
        z = np.asarray(data[key], dtype=np.float64)
        z = (z - z.min()) / max(float(z.max() - z.min()), 1e-9)
        rgb = (colormaps[cmap](z)[..., :3] * 255).astype(np.uint8)
        out.append(Image.fromarray(rgb).resize((z.shape[1] * 3, z.shape[0] * 3)))
    with cbook.get_sample_data("Minduka_Present_Blue_Pack.png") as fh:
        out.append(Image.open(fh).convert("RGB"))
    return out


def pan(image: Image.Image, seed: int, seconds: float = SECONDS) -> list[Image.Image]:
    """A slow pan and zoom across ``image`` (a documentary's Ken Burns shot), cut every 5 s."""
    rng = random.Random(seed)
    w, h = image.size
    frames = []
    n = int(seconds * FPS)
    for shot in range(0, n, 5 * FPS):
        zoom0, zoom1 = rng.uniform(0.3, 0.7), rng.uniform(0.3, 0.7)
        x0, y0, x1, y1 = (rng.random() for _ in range(4))
        for k in range(min(5 * FPS, n - shot)):
            a = k / (5 * FPS)
            zoom = zoom0 + (zoom1 - zoom0) * a
            cw, ch = int(w * zoom), int(w * zoom * 3 / 4)
            ch = min(ch, h)
            cx = int((x0 + (x1 - x0) * a) * (w - cw))
            cy = int((y0 + (y1 - y0) * a) * (h - ch))
            frames.append(image.crop((cx, cy, cx + cw, cy + ch)).resize(SIZE))
    return frames


def clip_frames(kind: str, seed: int, images: list[Image.Image]) -> list[Image.Image]:
    if kind == "scene":
        return list(videogen.scene(seed, SECONDS, SIZE, FPS, shapes=SHAPES))
    return pan(images[seed % len(images)], seed)


def copies(frames: list[Image.Image]) -> dict[str, bytes]:
    return {
        "original": videogen.encode(frames, fps=FPS),
        "re-encoded": videogen.encode(frames, fps=FPS, scale=(SIZE[0] // 2, SIZE[1] // 2),
                                      bitrate=80_000),
        "trimmed": videogen.encode(frames[5 * FPS:15 * FPS], fps=FPS),
        "bannered": videogen.encode([videogen.banner(f) for f in frames], fps=FPS),
        "letterboxed": videogen.encode([videogen.letterbox(f, 0.33) for f in frames], fps=FPS),
        "pillarboxed": videogen.encode([videogen.pillarbox(f, 0.6) for f in frames], fps=FPS),
    }


# -- 1. recall ---------------------------------------------------------------------------
def _te_modules() -> Any:
    if "vpdq" not in sys.modules:
        try:
            import vpdq  # noqa: F401
        except ImportError:
            stand_in = types.ModuleType("vpdq")  # the hasher, never called here
            stand_in.VpdqFeature = object  # type: ignore[attr-defined] # named in annotations
            sys.modules["vpdq"] = stand_in
    from threatexchange.extensions.vpdq import vpdq_brute_matcher, vpdq_index, vpdq_util

    return vpdq_brute_matcher, vpdq_index, vpdq_util


def recall(known: int) -> dict[str, Any]:
    from warding.app import Warding
    from warding.banks.records import EntryRecord
    from warding.banks.service import add_records, create_bank
    from warding.config import Settings
    from warding.matching.service import get_engine
    from warding.signals.compute import SignalValue
    from warding.signals.vpdq import VPDQSignal, from_json, hash_frames, to_json
    from warding.video import borders

    brute, _, util = _te_modules()
    st = VPDQSignal()
    images = _sample_images()
    bank: list[str] = []
    queries: list[tuple[str, int, str]] = []  # (edit, known index or -1, vpdq)
    untrimmed: list[tuple[int, str]] = []
    seconds_hashed = 0.0
    hash_time = 0.0
    for i in range(known):
        kind = "scene" if i % 2 == 0 else "pan"
        made = copies(clip_frames(kind, 1000 + i, images))
        for edit, data in made.items():
            started = time.perf_counter()
            value = st.compute(data) or "[]"
            hash_time += time.perf_counter() - started
            seconds_hashed += len(from_json(value)) if value != "[]" else 0
            if edit == "original":
                bank.append(value)
            else:
                queries.append((edit, i, value))
        saved = borders.content_box
        borders.content_box = lambda images: None  # type: ignore[assignment]
        try:
            untrimmed.append((i, to_json(hash_frames(made["letterboxed"]))))
        finally:
            borders.content_box = saved
        unrelated = clip_frames("scene" if i % 2 else "pan", 5000 + i, images)
        if i % 2 == 0:  # pans over the same pictures, elsewhere and otherwise
            unrelated = pan(images[(i + 1) % len(images)], 7000 + i)
        queries.append(("unrelated", -1, st.compute(videogen.encode(unrelated, fps=FPS))
                        or "[]"))
    with tempfile.TemporaryDirectory() as tmp:
        app = Warding(Settings(database_url=f"sqlite:///{tmp}/v.db", data_dir=Path(tmp),
                               semantic_matching=False))
        app.init_db()
        with app.transaction() as session:
            b = create_bank(session, "known", actor="bench")
            add_records(session, b, [EntryRecord(signals=[("vpdq", v)], ref=str(k),
                                                 provenance=str(k))
                                     for k, v in enumerate(bank)],
                        app.signal_types, actor="bench", how="bench")
        with app.transaction() as session:
            engine = get_engine(app, session)

            def found(value: str) -> set[int]:
                sigs = [SignalValue("vpdq", f, "q") for f in st.split(value)] \
                    if value != "[]" else []
                return {int(r.provenance) for r in engine.lookup_all(sigs)}

            rows: dict[str, dict[str, int]] = {}
            for edit, i, value in queries:
                got = found(value)
                te_got = {k for k, v in enumerate(bank) if value != "[]" and _te_match(
                    brute, util, value, v)}
                row = rows.setdefault(edit, {"n": 0, "warding": 0, "te": 0, "other": 0,
                                             "te_other": 0})
                row["n"] += 1
                if i >= 0:
                    row["warding"] += i in got
                    row["te"] += i in te_got
                    row["other"] += bool(got - {i})
                    row["te_other"] += bool(te_got - {i})
                else:
                    row["warding"] += bool(got)
                    row["te"] += bool(te_got)
            no_trim = sum(i in found(v) for i, v in untrimmed)
    return {"known": known, "rows": rows, "untrimmed_letterbox": no_trim,
            "flat_originals": sum(v == "[]" for v in bank),
            "hash_seconds_of_video": seconds_hashed, "hash_time_s": hash_time}


def _te_match(brute: Any, util: Any, query: str, bank: str) -> bool:
    if bank == "[]" or query == "[]":
        return False
    res = brute.match_VPDQ_hash_brute(util.json_to_vpdq(query), util.json_to_vpdq(bank),
                                      util.VPDQ_QUALITY_THRESHOLD, util.VPDQ_DISTANCE_THRESHOLD)
    return bool(res.query_match_percent >= util.VPDQ_QUERY_MATCH_THRESHOLD_PERCENT
                and res.compared_match_percent >= util.VPDQ_INDEX_MATCH_THRESHOLD_PERCENT)


# -- 2. lookups at 10,000 videos, 3. hashing speed ----------------------------------------
def real_clips(n: int, seconds: int, size: tuple[int, int], fps: int) -> tuple[list[str], float, float]:
    """vPDQ of ``n`` generated clips (their JSON), seconds of video and hashing time."""
    from warding.signals.vpdq import VPDQSignal

    st = VPDQSignal()
    images = _sample_images()
    out, video_s, spent = [], 0.0, 0.0
    for i in range(n):
        if i % 2 == 0:
            frames = list(videogen.scene(300 + i, seconds, size, fps, shapes=SHAPES))
        else:
            frames = [f.resize(size) for f in pan(images[i % len(images)], 300 + i, seconds)]
            frames = [frames[int(k * FPS / fps)] for k in range(seconds * fps)
                      if int(k * FPS / fps) < len(frames)]
        data = videogen.encode(frames, fps=fps)
        started = time.perf_counter()
        value = st.compute(data) or "[]"
        spent += time.perf_counter() - started
        video_s += len(frames) / fps
        out.append(value)
    return out, video_s, spent


def synth_bank(pool: list[str], videos: int, frames: int, seed: int = 20261205
               ) -> list[str]:
    """``videos`` bank videos of ``frames`` frames, made from the real frame hashes of
    ``pool``: each is a real clip's sequence with 64 bits flipped throughout (another video
    of a similar look, beyond the threshold) and 0-6 more bits per frame (encoding noise)."""
    from warding.signals.vpdq import VpdqFrame, from_json, to_json

    rng = np.random.default_rng(seed)
    sources = []
    for value in pool:
        fr = from_json(value)[:frames]
        while len(fr) < frames:
            fr = fr + fr[:frames - len(fr)]
        bits = np.unpackbits(np.frombuffer(bytes.fromhex("".join(f.pdq for f in fr)),
                                           dtype=np.uint8).reshape(frames, 32), axis=1)
        sources.append((bits, [f.quality for f in fr]))
    out = []
    for v in range(videos):
        bits, quality = sources[v % len(sources)]
        shared = np.zeros(256, dtype=np.uint8)
        shared[rng.choice(256, 64, replace=False)] = 1
        noise = np.zeros((frames, 256), dtype=np.uint8)
        for k in range(frames):
            noise[k, rng.choice(256, int(rng.integers(0, 7)), replace=False)] = 1
        hexes = np.packbits(bits ^ shared ^ noise, axis=1)
        out.append(to_json(VpdqFrame(hexes[k].tobytes().hex(), quality[k], float(k))
                           for k in range(frames)))
    return out


def lookups(bank_videos: int, repeats: int) -> dict[str, Any]:
    from warding.app import Warding
    from warding.banks.bulk import import_path
    from warding.config import Settings
    from warding.matching.service import get_engine
    from warding.signals.compute import SignalValue
    from warding.signals.vpdq import VPDQSignal

    _, index_mod, _ = _te_modules()
    st = VPDQSignal()
    pool, video_s, spent = real_clips(8, 60, SIZE, FPS)
    _, big_s, big_spent = real_clips(2, 60, (640, 360), 30)
    speed = {"320x240 15 fps": video_s / spent, "640x360 30 fps": big_s / big_spent}
    original = pool[0]
    frames = list(videogen.scene(300, 60, SIZE, FPS, shapes=SHAPES))
    query = st.compute(videogen.encode(frames, fps=FPS, scale=(160, 120), bitrate=80_000)) \
        or "[]"
    bank = synth_bank(pool, bank_videos - 1, 60) + [original]
    frames_total = sum(len(json.loads(v)) for v in bank)
    out: dict[str, Any] = {"videos": len(bank), "frames": frames_total, "speed": speed}
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "bank.txt"
        listing.write_text("".join(f"vpdq {v}\n" for v in bank))
        app = Warding(Settings(database_url=f"sqlite:///{tmp}/v.db", data_dir=Path(tmp),
                               semantic_matching=False, index_snapshot_min=10**9))
        app.init_db()
        started = time.perf_counter()
        import_path(app, "big", listing, actor="bench")
        out["warding_import_s"] = time.perf_counter() - started
        started = time.perf_counter()
        core_engine = get_engine(app)
        out["warding_open_s"] = time.perf_counter() - started
        signals = [SignalValue("vpdq", f, "q") for f in st.split(query)]
        times = []
        found = []
        for _ in range(repeats):
            started = time.perf_counter()
            found = core_engine.lookup_all(signals)
            times.append(time.perf_counter() - started)
        out["warding_ms"] = [1000 * percentile(times, 0.5), 1000 * percentile(times, 0.95)]
        out["warding_found"] = [r.frames.get("query_match_percent") for r in found]
        out["warding_true"] = any(r.entry_id == len(bank) for r in found)
    started = time.perf_counter()
    index = index_mod.VPDQIndex.build([(v, k) for k, v in enumerate(bank)])
    out["te_build_s"] = time.perf_counter() - started
    times = []
    te_found: list[Any] = []
    for _ in range(repeats):
        started = time.perf_counter()
        te_found = index.query(query)
        times.append(time.perf_counter() - started)
    out["te_ms"] = [1000 * percentile(times, 0.5), 1000 * percentile(times, 0.95)]
    out["te_true"] = any(m.metadata == len(bank) - 1 for m in te_found)
    out["te_found"] = len(te_found)
    return out


# -- the report ----------------------------------------------------------------------------
def section(rec: dict[str, Any], look: dict[str, Any]) -> str:
    m = machine()
    lines = [
        "## Video: vPDQ recall, lookups and hashing (issue 15)",
        "",
        (f"`make bench-video` on {m['cpu']} ({m['cores']} cores, shared with other work: the "
         f"machine was busy, load {load_average()}), {time.strftime('%Y-%m-%d')}; "
         f"threatexchange {m['versions'].get('threatexchange')}, faiss "
         f"{m['versions'].get('faiss')}."),
        "",
        (f"**Recall and false matches.** {rec['known']} known clips of {SECONDS} s "
         f"({SIZE[0]}x{SIZE[1]}, {FPS} fps): half generated scenes (moving shapes over "
         "gradients and noise), half pans and zooms over matplotlib's sample images; each "
         "copied five ways; as many unrelated clips (other scenes, and pans over the same "
         "pictures elsewhere). A copy counts when the bank video it came from matches; "
         "threatexchange's brute-force vPDQ matcher decides the same hashes (defaults: "
         "distance 31, quality 50, 80 % of the query's frames, 0 % of the bank video's)."),
        "",
        "| copies | clips | matched (Warding) | matched (threatexchange) | also matched another clip |",
        "|---|---|---|---|---|",
    ]
    desc = {"re-encoded": "re-encoded at half size, 80 kbit/s",
            "trimmed": "trimmed to a 10-s excerpt", "bannered": "12 % banner over the bottom",
            "letterboxed": "letterboxed (bars of a third of the height)",
            "pillarboxed": "pillarboxed (bars of 60 % of the width)",
            "unrelated": "unrelated clips (false matches)"}
    for edit in (*EDITS, "unrelated"):
        r = rec["rows"].get(edit)
        if not r:
            continue
        lines.append(f"| {desc[edit]} | {r['n']} | {r['warding']} ({100 * r['warding'] / r['n']:.0f} %)"
                     f" | {r['te']} ({100 * r['te'] / r['n']:.0f} %) | {r['other']} |")
    lines += [
        "",
        ("A banner is not a border: it replaces part of the picture, and a strip of this "
         "size moves most frames' PDQ hashes past 31 bits, so fewer than 80 % of the frames "
         "match (PDQ, and so vPDQ, is not robust to overlays of this size; lower "
         "`WARDING_VPDQ_QUERY_MATCH_PERCENT` or raise the bank's `vpdq` threshold for such "
         "lists, at the cost of more false matches)."),
        "",
        (f"Without border trimming, {rec['untrimmed_letterbox']} of {rec['known']} letterboxed "
         "copies match (the bars change every frame's PDQ hash by far more than 31 bits)."),
        "",
        (f"**Lookup of a 60-second video against {look['videos']:,} videos "
         f"({look['frames']:,} frame hashes).** The query is a 60-s clip re-encoded at half "
         "size and 80 kbit/s; the bank holds its original among videos made from the real "
         "frame hashes of 8 generated 60-s clips, each with 64 bits flipped throughout and "
         "0-6 more per frame (similar-looking videos beyond the threshold: clustered hashes, "
         "harder for the index than unrelated footage). Median and 95th percentile of "
         f"{REPEATS} lookups, one process, same hashes:"),
        "",
        "| | build | lookup median | p95 | finds the original |",
        "|---|---|---|---|---|",
        (f"| Warding (frames in the multi-index Hamming engine, SQLite) | import "
         f"{look['warding_import_s']:.1f} s + open {look['warding_open_s']:.1f} s | "
         f"{look['warding_ms'][0]:.1f} ms | {look['warding_ms'][1]:.1f} ms | "
         f"{'yes' if look['warding_true'] else 'no'} |"),
        (f"| threatexchange `VPDQIndex` (faiss `IndexBinaryFlat`) | {look['te_build_s']:.1f} s | "
         f"{look['te_ms'][0]:.1f} ms | {look['te_ms'][1]:.1f} ms | "
         f"{'yes' if look['te_true'] else 'no'} |"),
        "",
        "**Hashing speed** (PyAV decoding every frame, one PDQ a second, border trimming; one "
        "process): " + ", ".join(f"{k}: {v:.0f} s of video per second"
                                 for k, v in look["speed"].items())
        + f"; the recall set's 20-s clips: {rec['hash_seconds_of_video'] / rec['hash_time_s']:.0f} s/s. "
        "Meta's `vpdq` hasher could not be compared: it builds only from source against the "
        "FFmpeg development libraries, which are not installed here.",
    ]
    return "\n".join(lines) + "\n"


REPEATS = 20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", action="store_true", help="write docs/benchmarks.md's section")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    known = env_int("BENCH_VIDEO_KNOWN", 24)
    videos = env_int("BENCH_VIDEO_BANK", 10_000)
    rec = recall(known)
    print(json.dumps(rec), flush=True)
    look = lookups(videos, REPEATS)
    print(json.dumps(look), flush=True)
    text = section(rec, look)
    print(text)
    if args.out:
        args.out.write_text(json.dumps({"recall": rec, "lookups": look}, indent=1))
    if args.docs:
        put_section(ROOT / "docs" / "benchmarks.md", "video", text)


if __name__ == "__main__":
    main()
