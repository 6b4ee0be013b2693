"""Stored media, for reviewers: only files attached to some item, never cached."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import select
from starlette.responses import FileResponse, Response

from warding.db.models import ItemMedia, MediaObject, User
from warding.errors import NotFound
from warding.legal.preservation import note_media_access
from warding.web.deps import SessionDep, WardingDep, require

router = APIRouter(tags=["media"])

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Shown inline; anything else (HTML, SVG, PDF, ...) is only offered as a download, so
# stored content can never run as a page of the console's origin.
INLINE_PREFIXES = ("image/", "video/", "audio/")
NEVER_INLINE = frozenset({"image/svg+xml"})
# If a media URL is opened directly, the response is a sandboxed document.
MEDIA_CSP = "default-src 'none'; img-src 'self'; media-src 'self'; sandbox"


def _attached(w: WardingDep, session: SessionDep, sha256: str) -> str:
    """The MIME type of a stored file attached to some item (404 otherwise)."""
    if not SHA256.match(sha256):
        raise NotFound("no such media")
    mime = session.execute(
        select(MediaObject.mime)
        .join(ItemMedia, ItemMedia.sha256 == MediaObject.sha256)
        .where(MediaObject.sha256 == sha256)
        .limit(1)
    ).scalar_one_or_none()
    if mime is None or not w.media.path(sha256).is_file():
        raise NotFound("no such media")
    return str(mime)


@router.get("/media/{sha256}/frame/{ms}", responses={404: {"description": "No such media"},
                                                     422: {"description": "Not a video"}})
def get_frame(
    sha256: str,
    ms: int,
    w: WardingDep,
    session: SessionDep,
    user: Annotated[User, Depends(require("view_media"))],
) -> Response:
    """A video's frame at ``ms`` milliseconds as a small JPEG (a key frame of the case view;
    the console shows it blurred and grey until revealed)."""
    from warding.errors import InvalidInput
    from warding.video.frames import VideoError
    from warding.video.keyframes import thumbnail_jpeg

    _attached(w, session, sha256)
    if ms < 0:
        raise InvalidInput("the frame time must be 0 or more milliseconds")
    note_media_access(session, sha256, user.username)
    try:
        jpeg = thumbnail_jpeg(w.media.path(sha256).read_bytes(), ms / 1000)
    except VideoError as exc:
        raise InvalidInput(f"media {sha256[:16]}: {exc}") from exc
    return Response(jpeg, media_type="image/jpeg", headers={
        "Cache-Control": "no-store", "Content-Security-Policy": MEDIA_CSP})


@router.get("/media/{sha256}", responses={404: {"description": "No such media"}})
def get_media(
    sha256: str,
    w: WardingDep,
    session: SessionDep,
    user: Annotated[User, Depends(require("view_media"))],
) -> Response:
    mime = _attached(w, session, sha256)
    path = w.media.path(sha256)
    note_media_access(session, sha256, user.username)  # preserved content: audited (TCO Art. 6)
    inline = mime.startswith(INLINE_PREFIXES) and mime not in NEVER_INLINE
    return FileResponse(
        path,
        media_type=mime if inline else "application/octet-stream",
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": "inline" if inline else "attachment",
            "Content-Security-Policy": MEDIA_CSP,
        },
    )
