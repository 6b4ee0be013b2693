"""Liveness: no authentication, no database."""

from __future__ import annotations

from fastapi import APIRouter

from warding import __version__
from warding.web.schemas import StatusOut

router = APIRouter(tags=["status"])


@router.get("/status", response_model=StatusOut)
def status() -> StatusOut:
    return StatusOut(status="ok", version=__version__)
