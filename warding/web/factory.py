"""The web app: the review console (HTML) and the JSON API, built by :func:`create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.staticfiles import StaticFiles

from warding import __version__
from warding.app import Warding
from warding.web.errors import install_error_handlers
from warding.web.index_keeper import lifespan as index_lifespan
from warding.web.request_guard import RequestGuard, check_content_type
from warding.web.retro_keeper import lifespan as retro_lifespan
from warding.web.routers import (
    api_actions,
    api_audit,
    api_bank_retro,
    api_banks,
    api_cases,
    api_incidents,
    api_items,
    api_legal_complaints,
    api_legal_notices,
    api_legal_orders,
    api_legal_preservations,
    api_legal_reports,
    api_legal_tdb,
    api_legal_threats,
    api_match,
    api_me,
    api_statements,
    api_users,
    auth,
    console,
    console_actions,
    console_admin,
    console_cases,
    console_incidents,
    console_legal,
    console_settings,
    hma_content,
    hma_curation,
    hma_exchanges,
    hma_hashing,
    hma_matching,
    hma_meta,
    media,
    stats,
    status,
)
from warding.web.security import SecurityHeadersMiddleware, session_secret
from warding.web.templating import STATIC_DIR, make_templates

SESSION_COOKIE = "warding_session"
SESSION_MAX_AGE = 12 * 60 * 60  # seconds; renewed by each request

DESCRIPTION = (
    "Detect, review and act on terrorist and violent extremist content. "
    "Authenticate with `Authorization: Bearer <api key>` (see `warding user api-key`)."
)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the server runs, the index keeper keeps the match engine warm, the classifier
    is loaded for intake, and a worker retries due actions (webhooks with backoff) and sends
    intake's webhook events."""
    from warding.pipeline.loader import shared_loader

    shared_loader(app.state.warding)  # intake's classifier loads in the background now
    # retro_lifespan: retroactive matching (issue 20)
    async with index_lifespan(app), _action_worker(app), retro_lifespan(app):
        yield


@asynccontextmanager
async def _action_worker(app: FastAPI) -> AsyncIterator[None]:
    from warding.actions.worker import ActionWorker

    w: Warding = app.state.warding
    worker = None
    if w.settings.action_worker_interval > 0:
        worker = ActionWorker(w, w.settings.action_worker_interval)
        worker.start()
        app.state.action_worker = worker
    try:
        yield
    finally:
        app.state.action_worker = None
        if worker is not None:
            worker.stop()


def create_app(w: Warding) -> FastAPI:
    """A new FastAPI app serving ``w``; nothing is built at import time."""
    app = FastAPI(
        lifespan=lifespan,
        title="Warding",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,  # the interactive docs load assets from a CDN: content stays home
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        dependencies=[Depends(check_content_type)],  # 415 before field errors (issue 22)
    )
    app.state.warding = w
    app.state.templates = make_templates()
    app.state.action_worker = None  # set while the server runs (lifespan)
    install_error_handlers(app)
    for module in (status, auth, console, media, api_banks, api_cases, api_match, api_audit,
                   hma_hashing, hma_matching, hma_curation, hma_content, hma_exchanges, hma_meta):
        app.include_router(module.router)
    hma_meta.install_openapi(app)  # the plain HMA lookup routes in the OpenAPI document
    app.include_router(stats.router)  # statistics dashboard and API (issue 6)
    app.include_router(stats.api)
    for module in (console_cases, console_settings, console_actions, console_admin,  # issue 5
                   api_actions, api_statements, api_users, api_me):
        app.include_router(module.router)
    app.include_router(api_items.router)  # live intake (issue 13)
    for module in (api_legal_orders, api_legal_complaints, api_legal_notices,  # issue 14
                   api_legal_preservations, api_legal_reports, api_legal_threats,
                   api_legal_tdb, console_legal):
        app.include_router(module.router)
    for module in (api_bank_retro, api_incidents, console_incidents):  # issue 20
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # inside the session: its error pages may use the session (issue 22)
    app.add_middleware(RequestGuard, settings=w.settings)
    app.add_middleware(
        SessionMiddleware,
        secret_key=session_secret(w.settings),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE,
        same_site="strict",
        https_only=w.settings.session_cookie_secure,  # WARDING_SESSION_COOKIE_SECURE
    )
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: every response gets the headers
    return app
