"""Signing in to the pages with a token, and signing out.

A person pastes the token they were given; the page opens a session kept server-side
(``app.store.web_sessions``) and answers with its secret in a cookie (HttpOnly,
SameSite=Strict, Secure over HTTPS): the browser never keeps the token. Signing out
deletes the session, so the cookie is worthless from then on, wherever it was copied to.
Wrong tokens count against the client's address (``app.web.throttle``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.store import web_sessions
from app.store.engine import session_scope
from app.web.deps import (
    SESSION_COOKIE,
    StateDep,
    authenticate,
    check_throttle,
    client_of,
    failed_tokens_of,
    tokens_of,
)
from app.web.pages import csrf
from app.web.pages.context import renderer_of

router = APIRouter(include_in_schema=False)


def _safe_next(target: object) -> str:
    """Only a path on this site: never another host (``//evil.test``) or a scheme."""
    if (
        isinstance(target, str)
        and target.startswith("/")
        and not target.startswith("//")
        and not any(c in target for c in "\\\r\n")
    ):
        return target
    return "/"


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    response = renderer_of(request).page(
        request,
        "sign_in.html",
        {"viewer": None, "csrf_token": csrf.token(request), **context},
        status_code=status_code,
    )
    csrf.remember(request, response)
    return response


@router.get("/sign-in", name="sign_in")
async def sign_in_page(request: Request, state: StateDep, next: str = "/") -> Response:
    return _page(
        request,
        {
            "next": _safe_next(next),
            "open_access": not tokens_of(request).enabled,
            "problem": None,
            "signed_in": await authenticate(request) is not None and tokens_of(request).enabled,
        },
    )


@router.post("/sign-in", name="sign_in_submit")
async def sign_in(request: Request, state: StateDep) -> Response:
    form = await request.form()
    csrf.verify(request, form.get(csrf.FIELD))
    check_throttle(request)
    target = _safe_next(form.get("next"))
    lifetime = timedelta(hours=state.settings.server.session_hours)
    token = form.get("token")
    tokens = tokens_of(request)
    found = tokens.sign_in(token.strip()) if isinstance(token, str) else None
    if found is None:
        if tokens.enabled:
            failed_tokens_of(request).failed(client_of(request))
        problem = (
            "Nobody needs to sign in: this server is open (server.auth: none)."
            if not tokens.enabled
            else "That token is not valid. Check it with whoever runs Throughline."
        )
        return _page(
            request,
            {
                "next": target,
                "open_access": not tokens.enabled,
                "problem": problem,
                "signed_in": False,
            },
            status_code=401 if tokens.enabled else 400,
        )
    principal, fingerprint = found
    now = datetime.now(UTC)
    async with session_scope(state.sessionmaker) as session:
        await web_sessions.end_expired(session, now=now)
        secret = await web_sessions.open_session(
            session,
            principal=principal.name,
            token_fingerprint=fingerprint,
            now=now,
            lifetime=lifetime,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.get("/sign-out", name="sign_out")
async def sign_out_page(request: Request, state: StateDep) -> Response:
    response = renderer_of(request).page(
        request,
        "sign_out.html",
        {
            "viewer": await authenticate(request),
            "open_access": not tokens_of(request).enabled,
            "csrf_token": csrf.token(request),
        },
    )
    csrf.remember(request, response)
    return response


@router.post("/sign-out", name="sign_out_submit")
async def sign_out(request: Request, state: StateDep) -> Response:
    form = await request.form()
    csrf.verify(request, form.get(csrf.FIELD))
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        async with session_scope(state.sessionmaker) as session:
            await web_sessions.end(session, secret)
    response = RedirectResponse("/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
