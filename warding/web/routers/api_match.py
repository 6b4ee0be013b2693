"""Hash a file, look content up in the banks, score text with the classifier."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile

from warding.db.models import User
from warding.errors import InvalidInput
from warding.hashing import exchange_form, hash_content, hash_text, hash_url
from warding.matching.semantic import match_text, with_nearest_known
from warding.matching.service import get_engine
from warding.signals import compute
from warding.web.deps import SessionDep, WardingDep, require
from warding.web.schemas import (
    ClassifyIn,
    ClassifyOut,
    ErrorOut,
    HashOut,
    InsideTextOut,
    MatchesOut,
    MatchIn,
    MatchOut,
    OcrTextOut,
    SignalOut,
)

router = APIRouter(prefix="/api", tags=["matching"],
                   responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut},
                              422: {"model": ErrorOut}})

Matcher = Annotated[User, Depends(require("match"))]
Classifying = Annotated[User, Depends(require("classify"))]


def _check_text(w: WardingDep, text: str) -> None:
    if len(text) > w.settings.max_text_chars:
        raise InvalidInput(f"the text is over {w.settings.max_text_chars} characters "
                           "(max_text_chars)")


@router.post("/hash", response_model=HashOut)
def hash_file(file: UploadFile, w: WardingDep, user: Matcher) -> HashOut:
    """The signals of an uploaded file (file hashes, plus PDQ for images, vPDQ for videos as
    threatexchange's JSON, a PDF's page texts and images by page), the text read in an image (``ocr_text``) and in the images inside a PDF or a video (``ocr_inside``); the text signals of what was read have origin ``ocr``."""
    limit = w.settings.max_file_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(f"the file is over the {limit}-byte limit (max_file_bytes)")
    hashed = hash_content(w, data, file.filename or "upload")
    t = hashed.ocr_text
    return HashOut(signals=[SignalOut(type=v.signal_type, value=v.value, origin=v.origin)
                            for v in exchange_form(w, hashed.signals)],
                   ocr_text=OcrTextOut(**t.as_json()) if t is not None else None,
                   ocr_error=hashed.ocr_error,
                   ocr_inside=[InsideTextOut(**i.as_json()) for i in hashed.ocr_inside])


@router.post("/match", response_model=MatchesOut)
def match(body: MatchIn, w: WardingDep, session: SessionDep, user: Matcher) -> MatchesOut:
    """Banks entries matching a text, a URL and/or precomputed signals; closest first."""
    if body.text is None and body.url is None and not body.signals:
        raise InvalidInput("give at least one of text, url or signals")
    values: list[compute.SignalValue] = []
    if body.text is not None:
        _check_text(w, body.text)
        values.extend(hash_text(w, body.text))
    if body.url is not None:
        values.extend(hash_url(w, body.url))
    for s in body.signals or []:
        try:
            value = compute.validate(w.signal_types, s.type, s.value)
        except ValueError as exc:
            raise InvalidInput(f"signal {s.type}: {exc}") from exc
        values.append(compute.SignalValue(s.type, value, "query"))
    results = get_engine(w, session).lookup_all(values)
    if body.text is not None:
        results += match_text(w, session, body.text)
    return MatchesOut(matches=[MatchOut(**r.as_json()) for r in results])


@router.post("/classify", response_model=ClassifyOut,
             responses={503: {"model": ErrorOut, "description": "No trained model"}})
def classify(body: ClassifyIn, w: WardingDep, session: SessionDep,
             user: Classifying) -> ClassifyOut:
    """Score a text; 503 when no model has been trained (``warding model train``). The
    explanation lists the closest known bank texts when banks hold texts."""
    _check_text(w, body.text)
    result = with_nearest_known(w, session, body.text, w.classifier().classify([body.text])[0])
    return ClassifyOut(label=result.label, score=round(result.score, 6), violating=result.violating,
                       assessed=result.assessed, model=result.model,
                       explanation=result.explanation)
