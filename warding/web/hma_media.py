"""Hashing for the HMA-compatible API: an uploaded file or a URL (fetched only when the
operator allows it, see :mod:`warding.media.fetch`) becomes HMA's ``{signal_type: hash}``.

HMA hashes a photo to ``pdq`` and a video to ``video_md5`` (the MD5 of the file) and ``vpdq``
(threatexchange's JSON list of frames, :mod:`warding.signals.vpdq`). Warding
computes more (``md5``, ``sha256``, ``sha512`` for every file): they are given only when
asked with ``types=`` (HMA's parameter: a comma-separated list of signal type names, HMA's
or Warding's, or ``all``). Warding's ``md5`` is HMA's ``video_md5``: the API shows it under
HMA's name (:data:`HMA_NAMES`) and accepts both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from warding.app import Warding
from warding.banks.sources import signal_type_for
from warding.hashing import exchange_form
from warding.media.fetch import FetchError, UrlFetcher
from warding.signals import compute
from warding.signals.base import SignalError
from warding.web.hma import bad_request, query_list

CONTENT_TYPES = ("photo", "video")
DEFAULTS = {"photo": ("pdq",), "video": ("video_md5", "vpdq")}
HMA_NAMES = {"md5": "video_md5"}  # Warding's name → HMA's, in HMA answers
ALL = "all"


def hma_name(warding_name: str) -> str:
    return HMA_NAMES.get(warding_name, warding_name)


def warding_name(name: str) -> str:
    """Warding's signal type for an HMA or Warding name (ValueError if threatexchange's
    type has no Warding equivalent)."""
    return signal_type_for(name)


def fetcher(request: Request) -> UrlFetcher:
    """The app's URL fetcher (one per app; tests may put their own in app.state)."""
    found = getattr(request.app.state, "url_fetcher", None)
    if found is None:
        w: Warding = request.app.state.warding
        found = request.app.state.url_fetcher = UrlFetcher(w.settings)
    assert isinstance(found, UrlFetcher)
    return found


def hash_bytes(w: Warding, data: bytes, content_type: str,
               types: list[str] | None) -> dict[str, str]:
    """HMA's hashes of ``data`` as ``content_type``: the defaults, or the ``types`` asked."""
    if content_type not in CONTENT_TYPES:
        raise bad_request(f"no such content_type: '{content_type}' "
                          f"(use {' or '.join(CONTENT_TYPES)})")
    if not data:
        raise bad_request("the file is empty")
    mime = "image/unknown" if content_type == "photo" else "video/unknown"
    try:
        computed = {v.signal_type: v.value for v in exchange_form(w, compute.for_bytes(
            w.signal_types, data, mime, "upload", w.derive_limits,
            video=content_type == "video")) if v.origin == "upload"}
    except SignalError as exc:
        raise bad_request(f"cannot hash the {content_type}: {exc}") from exc
    wanted = list(types or DEFAULTS[content_type])
    if wanted == [ALL]:
        out = dict(computed)
        if content_type == "video" and "md5" in out:
            out["video_md5"] = out["md5"]
        return out
    out = {}
    for name in wanted:
        try:
            kind = warding_name(name)
        except ValueError as exc:
            raise bad_request(str(exc)) from exc
        if kind not in w.signal_types:
            raise bad_request(f"No such signal type '{name}'")
        if kind not in computed:
            st = w.signal_types[kind]
            if st.content == "file" or (st.content == "image" and content_type == "photo") \
                    or (st.content == "video" and content_type == "video"):
                raise bad_request(f"no {name} hash for this {content_type}: the hasher found "
                                  "too little in it (too small or too plain an image?)")
            raise bad_request(f"signal type '{name}' does not apply to a {content_type}")
        out[name.strip().lower()] = computed[kind]
    return out


async def hash_upload(w: Warding, form: Any, types: list[str] | None) -> dict[str, str]:
    """Hashes of the one file of a multipart form whose field name is HMA's content type
    (``photo`` or ``video``)."""
    files = [(name, value) for name, value in form.multi_items() if hasattr(value, "read")]
    if not files:
        raise bad_request("Missing multipart/form-data file upload")
    if len(files) > 1:
        raise bad_request("Only one file allowed per request")
    field, upload = files[0]
    if field not in CONTENT_TYPES:
        raise bad_request(f"no such content_type: '{field}' (name the file field "
                          f"{' or '.join(CONTENT_TYPES)})")
    limit = w.settings.max_file_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"the file is over the {limit}-byte limit (max_file_bytes)")
    # hashing is CPU work: in the thread pool, so that concurrent lookups go on (issue 22)
    return await run_in_threadpool(hash_bytes, w, data, field, types)


async def hash_url(request: Request, w: Warding, url: str, content_type: str | None,
                   types: str | None) -> dict[str, str]:
    """Download ``url`` (when the operator allows it) and hash it. ``content_type``
    (``photo`` or ``video``) is guessed from the answer's type when not given."""
    if content_type is not None and content_type not in CONTENT_TYPES:
        raise bad_request(f"no such content_type: '{content_type}' "
                          f"(use {' or '.join(CONTENT_TYPES)})")
    try:
        fetched = await run_in_threadpool(fetcher(request).fetch, url)
    except FetchError as exc:
        raise HTTPException(exc.status, str(exc)) from exc
    if content_type is None:
        if fetched.content_type.startswith("image/"):
            content_type = "photo"
        elif fetched.content_type.startswith("video/"):
            content_type = "video"
        else:
            raise bad_request(f"{url}: the content type is {fetched.content_type}: say "
                              "content_type=photo or content_type=video")
    return await run_in_threadpool(hash_bytes, w, fetched.data, content_type,
                                   query_list(types))


def as_warding(hashes: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(HMA name, Warding type, value) of HMA's hashes, without repeating a Warding type."""
    out: dict[str, tuple[str, str, str]] = {}
    for name, value in hashes.items():
        kind = warding_name(name)
        if kind not in out or name == hma_name(kind):
            out[kind] = (name, kind, value)
    return list(out.values())
