"""Live intake: platforms send posts (``POST /api/items``), one upload at a time
(``POST /api/items/upload``) and poll what became of them (``GET /api/items/…``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from warding.db.models import User
from warding.errors import InvalidInput, TooLarge
from warding.ingest._common import Reason, human_size
from warding.intake.items import media_blob, safe_filename
from warding.intake.schemas import ItemOut, ItemsIn, ItemsOut
from warding.intake.service import IntakeResult, ingest, item_view
from warding.web.deps import ActionsDep, SessionDep, WardingDep, require
from warding.web.schemas import ErrorOut

router = APIRouter(prefix="/api/items", tags=["intake"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}})

Scanner = Annotated[User, Depends(require("scan"))]

#: Form fields of an upload besides the file (the rest of the multipart body is small).
UPLOAD_OVERHEAD = 1024 * 1024
UPLOAD_FIELDS = ("id", "url", "account", "time", "title", "text", "lang", "platform")


def _inline(model: Any) -> dict[str, Any]:
    """``model``'s JSON schema with its definitions inlined (for an OpenAPI request body)."""
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[1]])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)  # type: ignore[no-any-return]


_BATCH_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _inline(ItemsIn)}}}}
_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file", "source", "id"],
    "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "The uploaded file (at most WARDING_MAX_FILE_BYTES)."},
        "source": {"type": "string", "description": "The platform or upload channel."},
        "id": {"type": "string", "description": "The platform's id of the upload."},
        **{name: {"type": "string"} for name in UPLOAD_FIELDS[1:]},
        "outlinks": {"type": "array", "items": {"type": "string"},
                     "description": "Links (repeat the field)."},
    }}}}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "Body, item or file over a size limit"},
    415: {"model": ErrorOut, "description": "Not the expected content type"},
    400: {"model": ErrorOut, "description": "The body is not valid JSON (or not UTF-8)"},
    422: {"model": ErrorOut, "description": "Invalid request; the reason names the field"},
}


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to be over ``limit``."""
    def too_large(size: str) -> TooLarge:
        return TooLarge(f"the request body is {size}, over the {human_size(limit)} limit "
                        "(intake_max_body_bytes): send fewer posts per request, or large "
                        "files one at a time to POST /api/items/upload")

    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(human_size(int(declared)))
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large(f"over {human_size(limit)}")
        chunks.append(chunk)
    return b"".join(chunks)


def _woken(result: IntakeResult, actions: ActionsDep) -> dict[str, Any]:
    if result.decided or result.events:
        actions.queued()  # the worker runs automatic decisions' actions and sends events
    return result.body


@router.post("", response_model=ItemsOut, openapi_extra=_BATCH_BODY, responses=_ERRORS)
async def post_items(request: Request, w: WardingDep, user: Scanner,
                     actions: ActionsDep) -> dict[str, Any]:
    """Store 1 to 1,000 posts of one source. Every post is answered, in order: `accepted`
    (stored now, with its matches, classification and case), `duplicate` (the source
    already has a post with this id: a retry; answered with the stored item) or `rejected`
    (with the reason, naming the post; the others are still stored). An answer is sent
    only once the accepted posts are committed."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/"):
        raise HTTPException(415, "POST /api/items takes JSON; send one file as multipart "
                                 "to POST /api/items/upload")
    body = await _read_body(request, w.settings.intake_max_body_bytes)
    try:
        payload = json.loads(body)
    except json.JSONDecodeError as exc:  # before ValueError: it is one
        raise HTTPException(400, f"the body is not valid JSON: {exc.msg} at line "
                                 f"{exc.lineno} column {exc.colno}") from exc
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError: not UTF-8
        raise HTTPException(400, f"the body is not valid JSON: {exc}") from exc
    if not isinstance(payload, dict):
        raise InvalidInput('the body must be a JSON object: {"source": "…", "items": [posts]}')
    unknown = sorted(set(payload) - {"source", "items"})
    if unknown:
        raise InvalidInput(f"unknown field(s) {', '.join(map(repr, unknown))}: the body has "
                           "'source' and 'items'")
    result = await run_in_threadpool(ingest, w, payload.get("source"), payload.get("items"),
                                     actor=user.username)
    return _woken(result, actions)


@router.post("/upload", response_model=ItemsOut, openapi_extra=_UPLOAD_BODY,
             responses=_ERRORS)
async def upload_item(request: Request, w: WardingDep, user: Scanner,
                      actions: ActionsDep) -> dict[str, Any]:
    """One upload straight from a platform's upload hook: multipart `file` plus the post's
    fields (`source` and `id` required). Answered as `POST /api/items`; a rejected upload
    is a 413 (too large) or 422 naming the reason, and a retry is a `duplicate`."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send multipart/form-data with a 'file' part; posts as "
                                 "JSON go to POST /api/items")
    limit = w.settings.max_file_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + UPLOAD_OVERHEAD:
        raise TooLarge(f"the upload is {human_size(int(declared))}, over the "
                       f"{human_size(limit)} file limit (max_file_bytes)")
    async with request.form(max_files=1, max_fields=100) as form:  # closes the spooled file
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("the multipart body has no 'file' part")
        data = await upload.read(limit + 1)
        name = safe_filename(upload.filename or "upload")
        record: dict[str, Any] = {k: v for k, v in form.multi_items()
                                  if k not in ("file", "source", "outlinks", "csrf_token")
                                  and isinstance(v, str)}
        record["outlinks"] = [v for v in form.getlist("outlinks") if isinstance(v, str)]
        source = form.get("source")
    ref = f"upload {record.get('id', '')!r} ({name!r})"
    if len(data) > limit:
        raise TooLarge(f"{ref}: file is over the {human_size(limit)} limit (max_file_bytes)")
    blob = await run_in_threadpool(media_blob, name, data, w.limits)  # decodes images
    if isinstance(blob, Reason):
        raise InvalidInput(f"{ref}: {blob}")
    result = await run_in_threadpool(ingest, w, source if isinstance(source, str) else None,
                                     [record], actor=user.username,
                                     input_ref="POST /api/items/upload", media=[blob])
    first = result.body["items"][0]
    if first["status"] == "rejected":
        raise InvalidInput(str(first.get("error") or "rejected"))
    return _woken(result, actions)


@router.get("/{source}/{external_id:path}", response_model=ItemOut,
            responses={404: {"model": ErrorOut}})
def get_item(source: str, external_id: str, session: SessionDep, user: Scanner) -> dict[str, Any]:
    """The item sent as (`source`, `external_id`): its signals, matches, classification,
    case, decisions, actions and webhook events, for a platform that polls."""
    return item_view(session, source, external_id)
