"""The HTML pages: routes that call the same services as the JSON API and render
``templates/``."""

from __future__ import annotations

from collections.abc import Hashable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config.settings import Settings
from app.programs import lookup
from app.runtime.state import AppState
from app.store.engine import session_scope
from app.web.cache import ResponseCache
from app.web.pages import (
    alerts,
    assets,
    audit,
    context,
    csrf,
    dependencies,
    docs,
    flow,
    goals,
    items,
    plans,
    portfolio,
    program,
    risks,
    signin,
    sources,
    whatif,
)
from app.web.pages.blanks import BlankMeansAny
from app.web.pages.render import Renderer
from app.web.security import SecurityHeaders


def install(app: FastAPI, settings: Settings) -> None:
    """Add the pages, their error handling (pages in the site's layout, JSON under /api)
    and the security headers to the app."""
    app.state.renderer = Renderer()

    async def stored_version() -> Hashable:
        state: AppState = app.state.throughline
        async with session_scope(state.read_sessionmaker) as session:
            return await lookup.stored_version(session)

    app.state.response_cache = ResponseCache(settings.server.cache_seconds, version=stored_version)
    for module in (
        assets,
        signin,
        portfolio,
        goals,
        program,
        flow,
        dependencies,
        plans,
        risks,
        items,
        sources,
        alerts,
        audit,
        docs,
        whatif,
    ):
        app.include_router(module.router)
    app.add_exception_handler(context.SignInRequired, context.sign_in_required)
    app.add_exception_handler(context.NotAllowed, context.not_allowed)
    app.add_exception_handler(csrf.CsrfFailed, context.csrf_failed)
    app.add_exception_handler(lookup.NotFound, context.not_found)
    app.add_exception_handler(StarletteHTTPException, context.http_error)
    app.add_exception_handler(RequestValidationError, context.invalid_request)
    app.add_exception_handler(Exception, context.server_error)
    app.add_middleware(BlankMeansAny)
    app.add_middleware(SecurityHeaders)
