"""Jinja2 templates (autoescaped) and the helpers every console page uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from warding.accounts.roles import allowed
from warding.web.deps import csrf_token

TEMPLATE_DIR = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
FLASH_KEY = "flash"


def _when(value: object) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM' (UTC)."""
    if not isinstance(value, str) or not value:
        return ""
    return value[:16].replace("T", " ")


def _score(value: object) -> str:
    return f"{float(value):.3f}" if isinstance(value, int | float) else ""


def _json(value: object) -> str:
    """Compact JSON for reading (the template's autoescaping makes it safe in HTML)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["score"] = _score
    env.globals["allowed"] = allowed
    env.filters["json"] = _json
    env.globals["can"] = allowed  # can(user.role, "decide"): show only what the role may use
    return Jinja2Templates(env=env)


def flash(request: Request, message: str, kind: str = "info") -> None:
    """A message shown once, on the next page rendered for this session."""
    messages = list(request.session.get(FLASH_KEY) or [])
    messages.append({"message": message, "kind": kind})
    request.session[FLASH_KEY] = messages[-5:]


def render(request: Request, name: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> Response:
    templates: Jinja2Templates = request.app.state.templates
    has_session = "session" in request.scope  # not when rendering a 500 page
    ctx: dict[str, Any] = {
        "user": getattr(request.state, "user", None) if has_session else None,
        "csrf_token": csrf_token(request) if has_session else "",
        "flashes": (request.session.pop(FLASH_KEY, None) or []) if has_session else [],
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
