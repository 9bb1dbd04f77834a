"""Signing in to the pages with a token or through the identity provider, and out.

A person pastes the token they were given; the page opens a session kept server-side
(``app.store.web_sessions``) and answers with its secret in a cookie (HttpOnly,
SameSite=Strict, Secure over HTTPS): the browser never keeps the token. Signing out
deletes the session, so the cookie is worthless from then on, wherever it was copied to.
Wrong tokens count against the client's address (``app.web.throttle``). With
``server.oidc`` the page also offers the provider's sign-in (``app.web.oidc``); it ends
in the same kind of session, holding the role and groups the provider's claims gave.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.store import web_sessions
from app.store.engine import session_scope
from app.web import oidc
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


def _provider(request: Request) -> oidc.Provider | None:
    found: oidc.Provider | None = getattr(request.app.state, "oidc", None)
    return found


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    provider = _provider(request)
    response = renderer_of(request).page(
        request,
        "sign_in.html",
        {
            "viewer": None,
            "csrf_token": csrf.token(request),
            "provider": provider.config.name if provider is not None else None,
            **context,
        },
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


@router.get("/sign-in/oidc", name="sign_in_oidc")
async def sign_in_oidc(request: Request, state: StateDep, next: str = "/") -> Response:
    """Off to the identity provider, with this sign-in's state kept in a signed cookie."""
    provider = _provider(request)
    if provider is None:
        raise StarletteHTTPException(404, "Single sign-on is not configured.")
    public_url = state.settings.server.public_url
    base = public_url.rstrip("/") if public_url else str(request.base_url).rstrip("/")
    try:
        url, sealed = await provider.start(
            redirect_uri=f"{base}/sign-in/oidc/callback", next_url=_safe_next(next)
        )
    except oidc.SignInFailed as exc:
        return _failed(request, str(exc), 502)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        oidc.PENDING_COOKIE,
        sealed,
        max_age=oidc.PENDING_SECONDS,
        httponly=True,
        # Lax: the provider sends the browser back with a top-level GET from its own site.
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/sign-in/oidc",
    )
    return response


@router.get("/sign-in/oidc/callback", name="sign_in_oidc_callback")
async def sign_in_oidc_callback(
    request: Request,
    state: StateDep,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
) -> Response:
    """Back from the provider: check everything, open a session, and go on."""
    provider = _provider(request)
    if provider is None:
        raise StarletteHTTPException(404, "Single sign-on is not configured.")
    check_throttle(request)
    sealed = request.cookies.get(oidc.PENDING_COOKIE)
    if error:
        return _failed(request, f"The identity provider said: {error_description or error}.", 401)
    try:
        principal = await provider.finish(
            sealed=sealed, state=request.query_params.get("state"), code=code
        )
    except oidc.SignInFailed as exc:
        failed_tokens_of(request).failed(client_of(request))
        stale = provider.unseal(sealed) is None or "state" in str(exc)
        return _failed(request, str(exc), 400 if stale else 401)
    lifetime = timedelta(hours=state.settings.server.session_hours)
    now = datetime.now(UTC)
    async with session_scope(state.sessionmaker) as session:
        await web_sessions.end_expired(session, now=now)
        secret = await web_sessions.open_session(
            session,
            principal=principal.name,
            token_fingerprint=oidc.SESSION_MARK,
            now=now,
            lifetime=lifetime,
            role=principal.role.name.lower(),
            groups=sorted(principal.groups),
        )
    # The session cookie is SameSite=Strict, which a browser leaves off a redirect that
    # began on the provider's site: a page of ours takes the last step instead.
    response = renderer_of(request).page(
        request,
        "signed_in.html",
        {"viewer": principal, "open_access": False, "next": provider.next_url(sealed)},
    )
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    response.delete_cookie(oidc.PENDING_COOKIE, path="/sign-in/oidc", httponly=True)
    return response


def _failed(request: Request, problem: str, status_code: int) -> Response:
    return _page(
        request,
        {"next": "/", "open_access": False, "problem": problem, "signed_in": False},
        status_code=status_code,
    )


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
