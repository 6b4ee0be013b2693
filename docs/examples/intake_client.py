"""A short intake client: send a JSON Lines file of posts to Warding's ``POST /api/items``.

    WARDING_URL=http://127.0.0.1:8000 WARDING_API_KEY=wd_… \\
        python docs/examples/intake_client.py posts.jsonl --source uploads

Standard library only. Posts go in batches of 500; a batch that fails on the network or with a
5xx is sent again (with backoff) until it is answered: that is safe, because Warding
recognises a post it already stored by (source, id) and answers ``duplicate`` without storing
it twice. Rejected posts are printed with their reason; the rest of their batch is stored.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

BATCH = 500


def batches(path: str, size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                batch.append(json.loads(line))
            if len(batch) == size:
                yield batch
                batch = []
    if batch:
        yield batch


def send(url: str, key: str, source: str, posts: list[dict[str, Any]]) -> dict[str, Any]:
    """POST one batch; retried until answered (network errors, 5xx). 4xx are raised."""
    body = json.dumps({"source": source, "items": posts}).encode()
    delay = 1.0
    while True:
        request = urllib.request.Request(
            url.rstrip("/") + "/api/items", data=body, method="POST",
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.load(response)  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                raise SystemExit(f"refused ({exc.code}): {json.load(exc).get('detail')}") from exc
            problem = f"server error {exc.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            problem = f"network: {exc}"
        print(f"retrying in {delay:.0f} s ({problem})", file=sys.stderr)
        time.sleep(delay)
        delay = min(delay * 2, 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("posts", help="JSON Lines file, one post per line (docs/formats.md)")
    parser.add_argument("--source", required=True, help="platform or upload channel")
    args = parser.parse_args()
    url = os.environ.get("WARDING_URL", "http://127.0.0.1:8000")
    key = os.environ["WARDING_API_KEY"]
    totals = {"accepted": 0, "duplicates": 0, "rejected": 0, "cases": 0}
    for posts in batches(args.posts, BATCH):
        answer = send(url, key, args.source, posts)
        for k in ("accepted", "duplicates", "rejected"):
            totals[k] += answer[k]
        for item in answer["items"]:
            if item["status"] == "rejected":
                print(f"rejected {item['error']}", file=sys.stderr)
            elif item["case_id"] is not None and item["status"] == "accepted":
                totals["cases"] += 1
                print(f"post {item['external_id']}: case {item['case_id']} opened for review")
    print(json.dumps(totals))


if __name__ == "__main__":
    main()
