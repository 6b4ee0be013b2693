"""The long fuzz run (``make fuzz``): every target in its own process, coverage-guided with
atheris (libFuzzer) when it is installed, else with hypothesis.

    python -m tests.fuzz.run [--cases N] [--targets a,b] [--jobs 2] [--engine atheris]

``--cases`` is the base number of inputs per target (``FUZZ_CASES`` in the Makefile), scaled
by :data:`SHARE`: the fast hash-list and image parsers get twice as many, the HTML page
reader (a whole text extraction per case) 0.3 of it and the HTTP API (a whole request per
case) 0.15. The default, 100,000, makes 1,345,000 cases in all.
A case that raises an unexpected exception or gets a 5xx is a crash: it is counted (once
per distinct place and type, with how many inputs hit it), its input saved under
``--out``/crashes, and the run goes on. Prints, per target: cases run, distinct crashes,
known failures, seconds; exits 1 if any crash is not a known one.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SHARE = {"hashlist_jsonl": 2.0, "hashlist_csv": 2.0, "hashlist_lines": 2.0, "hashlist_tcap": 2.0,
         "image": 2.0, "html": 0.3, "http_api": 0.15}
ALL = ["posts_jsonl", "posts_csv", "telegram", "html", "hashlist_jsonl", "hashlist_csv",
       "hashlist_lines", "hashlist_tcap", "image", "http_api"]


def _child(args: argparse.Namespace) -> None:
    """Fuzz one target; write its findings to args.stats as they happen."""
    warnings.simplefilter("ignore")  # PIL's warnings about truncated files, by the thousand
    logging.disable(logging.CRITICAL)  # the server's "unhandled error" logs: counted instead
    stats_path = Path(args.stats)
    out = Path(args.out)
    crash_dir = out / "crashes" / args.child
    crash_dir.mkdir(parents=True, exist_ok=True)
    state: dict[str, Any] = {"target": args.child, "cases": 0, "crashes": {}, "known": {},
                             "engine": args.engine}

    def save() -> None:
        stats_path.write_text(json.dumps(state), encoding="utf-8")

    from tests.fuzz.targets import build, crc, signature

    if args.engine == "atheris":
        import atheris

        # Warding's modules are imported while the target is built: instrument them there
        # (coverage feedback for the fuzzer; other libraries run uninstrumented).
        with atheris.instrument_imports(include=["warding"]):
            target = build(Path(args.work), [args.child])[args.child]
    else:
        target = build(Path(args.work), [args.child])[args.child]

    def one(data: bytes) -> None:
        state["cases"] += 1
        try:
            target.run(data)
        except Exception as exc:  # noqa: BLE001 - every unexpected exception is a finding
            known = target.known(data, exc) if target.known else ""
            where = signature(exc)
            bucket = state["known"] if known else state["crashes"]
            entry = bucket.setdefault(where, {"count": 0, "example": str(exc)[:300],
                                              "input": "", "known": known})
            entry["count"] += 1
            if entry["count"] == 1:
                path = crash_dir / f"{'known-' if known else ''}{crc(data)}.bin"
                path.write_bytes(data)
                entry["input"] = str(path)
                save()
        if state["cases"] % 5000 == 0:
            save()

    started = time.monotonic()
    if args.engine == "atheris":
        import atheris

        corpus = out / "corpus" / args.child
        corpus.mkdir(parents=True, exist_ok=True)
        for seed in target.seeds:
            (corpus / f"seed-{crc(seed)}").write_bytes(seed)

        def finish() -> None:
            state["seconds"] = round(time.monotonic() - started, 1)
            save()

        import atexit

        atexit.register(finish)
        atheris.Setup([sys.argv[0], f"-runs={args.cases}", "-max_len=16384",
                       f"-timeout={args.timeout}", "-rss_limit_mb=3072",
                       "-print_final_stats=1", str(corpus)], one)
        atheris.Fuzz()  # exits the process at the end of the runs
    else:
        from tests.fuzz.strategies import run_hypothesis

        run_hypothesis(one, target.seeds, args.cases)
        state["seconds"] = round(time.monotonic() - started, 1)
        save()


def _parent(args: argparse.Namespace) -> int:
    names = args.targets.split(",") if args.targets else ALL
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="warding-fuzz-"))
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    print(f"fuzzing {len(names)} target(s) with {engine}, {args.cases:,} cases per target "
          f"(scaled per target), {args.jobs} at a time", flush=True)

    def run_one(name: str) -> dict[str, Any]:
        cases = max(1, int(args.cases * SHARE.get(name, 1.0)))
        stats = work / f"{name}.json"
        cmd = [sys.executable, "-m", "tests.fuzz.run", "--child", name, "--cases", str(cases),
               "--engine", engine, "--stats", str(stats), "--work", str(work / name),
               "--out", str(out), "--timeout", str(args.timeout)]
        started = time.monotonic()
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", check=False,
                              env={**os.environ, "PYTHONWARNINGS": "ignore"})
        seconds = time.monotonic() - started
        result: dict[str, Any] = {"target": name, "cases": 0, "crashes": {}, "known": {}}
        if stats.exists():
            result.update(json.loads(stats.read_text(encoding="utf-8")))
        done = re.findall(r"Done (\d+) runs", proc.stderr)
        if done:  # libFuzzer's own count: every input run, the seed corpus included
            result["cases"] = max(int(done[-1]), int(result.get("cases", 0)))
        result["seconds"] = round(seconds, 1)
        if proc.returncode not in (0,) and not done:
            result["crashes"]["runner"] = {"count": 1, "example":
                                           proc.stderr.strip().splitlines()[-1:] or "",
                                           "input": "", "known": ""}
        (out / f"{name}.log").write_text(proc.stderr[-20000:], encoding="utf-8")
        print(f"  {name:16} {result['cases']:>10,} cases  {len(result['crashes'])} crash(es)  "
              f"{len(result['known'])} known  {result['seconds']:>8.1f} s", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(run_one, names))
    total = sum(int(r["cases"]) for r in results)
    crashes = sum(len(r["crashes"]) for r in results)
    print(f"total: {total:,} cases, {crashes} crash(es), "
          f"{sum(len(r['known']) for r in results)} known failure(s)")
    for r in results:
        for where, info in {**r["crashes"], **r["known"]}.items():
            tag = "KNOWN " if info.get("known") else "CRASH "
            print(f"  {tag}{r['target']}: {where} x{info['count']}: {info['example']}"
                  f"{' (' + info['known'] + ')' if info.get('known') else ''}"
                  f"{' input: ' + info['input'] if info.get('input') else ''}")
    (out / "summary.json").write_text(json.dumps({"engine": engine, "results": results},
                                                 indent=2), encoding="utf-8")
    return 1 if crashes else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--targets", default="")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per input")
    parser.add_argument("--out", default="build/fuzz")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    sys.exit(_parent(args))


if __name__ == "__main__":
    main()
