"""HMA's hasher: ``/h/hash``.

``POST /h/hash`` with one file in a multipart field named after HMA's content type
(``photo`` or ``video``) → ``{signal_type: hash}``: ``pdq`` for a photo, ``video_md5`` for
a video, as HMA; ``types=`` asks for others (``md5``, ``sha256``, ``sha512``, or ``all``).
``GET /h/hash?url=…[&content_type=photo|video][&types=…]`` downloads the URL first, only
when the operator turned URL fetching on (WARDING_URL_FETCH), with its guards; otherwise
403.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from warding.accounts.service import UserView
from warding.web.deps import WardingDep
from warding.web.hma import bad_request, hma_user, query_list
from warding.web.hma_media import hash_upload
from warding.web.hma_media import hash_url as hash_from_url

router = APIRouter(prefix="/h", tags=["HMA hasher"])

Hasher = Annotated[UserView, Depends(hma_user("match", "hasher"))]
ERRORS: dict[int | str, dict[str, Any]] = {400: {"description": "Bad input (the message says which)"},
          403: {"description": "Not allowed, URL fetching off, or a refused address"},
          413: {"description": "Over the size limit"}}


URL_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS, 415: {"description": "Not an image or a video"},
    502: {"description": "The URL could not be downloaded"},
    504: {"description": "The download took too long"}}


@router.get("/hash", responses=URL_ERRORS)
async def hash_url(request: Request, w: WardingDep, user: Hasher, url: str | None = None,
                   content_type: str | None = None,
                   types: str | None = None) -> dict[str, str]:
    """Hash the content at ``url`` (needs WARDING_URL_FETCH): ``{signal_type: hash}``."""
    if not url:
        raise bad_request("url is required")
    return await hash_from_url(request, w, url, content_type, types)


@router.post("/hash", responses=ERRORS)
async def hash_file(request: Request, w: WardingDep, user: Hasher,
                    types: str | None = None) -> dict[str, str]:
    """Hash an uploaded file (multipart field ``photo`` or ``video``)."""
    async with request.form() as form:
        return await hash_upload(w, form, query_list(types))
