"""HMA's hasher: ``/h/hash``.

``POST /h/hash`` with one file in a multipart field named after HMA's content type
(``photo`` or ``video``) → ``{signal_type: hash}``: ``md5``, ``sha256``, ``sha512``, and
``pdq`` for photos (HMA's ``video_md5`` too for videos). ``GET /h/hash?url=…`` would make
the server download the URL: Warding never fetches content (403); upload it instead.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from warding.accounts.service import UserView
from warding.web.deps import WardingDep
from warding.web.hma import bad_request, hash_upload, hma_user, no_url_fetching

router = APIRouter(prefix="/h", tags=["HMA hasher"])

Hasher = Annotated[UserView, Depends(hma_user("match"))]


@router.get("/hash")
async def hash_url(user: Hasher, url: str | None = None) -> dict[str, str]:
    if not url:
        raise bad_request("url is required")
    raise no_url_fetching()


@router.post("/hash")
async def hash_file(request: Request, w: WardingDep, user: Hasher) -> dict[str, str]:
    return await hash_upload(w, request)
