"""The console's own settings page (wellness) and the break button."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from warding.db.engine import savepoint
from warding.db.models import User
from warding.errors import WardingError
from warding.review.wellness import get_settings, status, take_break, update_settings
from warding.web.deps import SessionDep, require
from warding.web.errors import status_for
from warding.web.templating import flash, render

router = APIRouter(include_in_schema=False)

Person = Annotated[User, Depends(require("own_settings"))]


@router.get("/settings")
def settings_page(request: Request, session: SessionDep, user: Person) -> Response:
    return render(request, "settings.html", {
        "settings": get_settings(session, user.id), "wellness": status(session, user.id),
        "active": "settings"})


@router.post("/settings")
def save_settings(
    request: Request,
    session: SessionDep,
    user: Person,
    blur: Annotated[str, Form(max_length=5)] = "",
    greyscale: Annotated[str, Form(max_length=5)] = "",
    autoplay: Annotated[str, Form(max_length=5)] = "",
    mute_audio: Annotated[str, Form(max_length=5)] = "",
    break_after_items: Annotated[int, Form(ge=0, le=1000)] = 50,
    break_after_minutes: Annotated[int, Form(ge=0, le=600)] = 60,
) -> Response:
    """Checkboxes: a missing field is an unticked box."""
    changes = {"blur": blur == "on", "greyscale": greyscale == "on",
               "autoplay": autoplay == "on", "mute_audio": mute_audio == "on",
               "break_after_items": break_after_items, "break_after_minutes": break_after_minutes}
    try:
        with savepoint(session):
            update_settings(session, user, changes, actor=user.username)
    except WardingError as exc:
        return render(request, "settings.html", {
            "settings": get_settings(session, user.id), "wellness": status(session, user.id),
            "error": str(exc), "active": "settings"}, status_code=status_for(exc))
    flash(request, "Your settings are saved.")
    return RedirectResponse("/settings", status_code=303)


@router.post("/wellness/break")
def record_break(request: Request, session: SessionDep, user: Person) -> Response:
    take_break(session, user.id)
    flash(request, "Welcome back. The counter starts again.")
    return RedirectResponse("/", status_code=303)
