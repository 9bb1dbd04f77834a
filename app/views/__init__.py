"""The HTML pages: routes that call the same services as the JSON API and render
``templates/``."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import programs
from app.response_cache import ResponseCache
from app.settings import Settings
from app.views import (
    assets,
    context,
    csrf,
    dependencies,
    items,
    plans,
    portfolio,
    program,
    risks,
    signin,
    sources,
)
from app.views.render import Renderer
from app.views.security import SecurityHeaders


def install(app: FastAPI, settings: Settings) -> None:
    """Add the pages, their error handling and the security headers to the app."""
    app.state.renderer = Renderer()
    app.state.response_cache = ResponseCache(settings.server.cache_seconds)
    for module in (
        assets,
        signin,
        portfolio,
        program,
        dependencies,
        plans,
        risks,
        items,
        sources,
    ):
        app.include_router(module.router)
    app.add_exception_handler(context.SignInRequired, context.sign_in_required)
    app.add_exception_handler(context.NotAllowed, context.not_allowed)
    app.add_exception_handler(csrf.CsrfFailed, context.csrf_failed)
    app.add_exception_handler(programs.NotFound, context.not_found)
    app.add_exception_handler(StarletteHTTPException, context.http_error)
    app.add_middleware(SecurityHeaders)
