"""Request dependencies as ``Annotated`` aliases, so route signatures read as data."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import ThroughlineConfig
from app.config.settings import Settings
from app.programs import access
from app.programs.lookup import StoredReads
from app.runtime.state import AppState
from app.store import api_tokens, web_sessions
from app.store.engine import session_scope
from app.web.auth import Principal, Role, TokenRegistry
from app.web.cache import ResponseCache
from app.web.throttle import FailedTokens

# Dependencies are ``async def`` even when they do not await: FastAPI runs a plain
# function in a worker thread, a needless hop on every request.


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.throughline
    return state


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the handler returns, rolled back if it raises."""
    state: AppState = request.app.state.throughline
    maker = state.read_sessionmaker if request.method in ("GET", "HEAD") else state.sessionmaker
    async with session_scope(maker) as session:
        yield session


StateDep = Annotated[AppState, Depends(get_state)]
# scope="function": the commit happens before the response is sent, so a failed commit is
# an error answer, not a success the client was wrongly told about.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def get_settings_dep(state: StateDep) -> Settings:
    return state.settings


async def get_config(state: StateDep) -> ThroughlineConfig:
    return state.config


async def get_reads(state: StateDep) -> StoredReads:
    return state.reads


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ReadsDep = Annotated[StoredReads, Depends(get_reads)]
ConfigDep = Annotated[ThroughlineConfig, Depends(get_config)]


def response_cache_of(request: Request) -> ResponseCache:
    cache: ResponseCache = request.app.state.response_cache
    return cache


async def get_response_cache(request: Request) -> ResponseCache:
    return response_cache_of(request)


ResponseCacheDep = Annotated[ResponseCache, Depends(get_response_cache)]


SESSION_COOKIE = "throughline_session"
"""The secret of a sign-in kept server-side (see ``app.store.web_sessions``); never a token."""
_UNKNOWN = object()


def _bearer(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return None


def tokens_of(request: Request) -> TokenRegistry:
    """The app's tokens (built by the lifespan)."""
    tokens: TokenRegistry = request.app.state.tokens
    return tokens


def failed_tokens_of(request: Request) -> FailedTokens:
    throttle: FailedTokens = request.app.state.failed_tokens
    return throttle


def client_of(request: Request) -> str:
    """The client's address (the proxy's forwarded one, when the proxy is trusted)."""
    return request.client.host if request.client is not None else "unknown"


def check_throttle(request: Request) -> None:
    """Refuse (429) a client that presented too many wrong tokens within the minute."""
    wait = failed_tokens_of(request).retry_after(client_of(request))
    if wait is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "Too many wrong tokens from this address; try again in a minute.",
            headers={"Retry-After": str(math.ceil(wait))},
        )


async def authenticate(request: Request) -> Principal | None:
    """Who sent a request: a Bearer token first, else the session cookie's sign-in.

    A wrong Bearer token counts against the client's address (``FailedTokens``); past
    the limit, its tokens are refused with 429 unchecked. The programs the rest of the
    request may see are theirs from here on (``app.programs.access``).
    """
    known = getattr(request.state, "principal", _UNKNOWN)
    found: Principal | None
    if known is not _UNKNOWN:
        found = known  # type: ignore[assignment]
    else:
        found = await _identify(request)
        request.state.principal = found
    access.admit(found.audience if found is not None else access.PUBLIC)
    return found


async def _identify(request: Request) -> Principal | None:
    tokens = tokens_of(request)
    token = _bearer(request)
    found: Principal | None
    if not tokens.enabled:
        found = tokens.authenticate(None)
    elif token is not None:
        check_throttle(request)
        found = tokens.authenticate(token) or await _stored_token(request, token)
        if found is None:
            failed_tokens_of(request).failed(client_of(request))
    else:
        found = await _signed_in(request, tokens)
    return found


async def _stored_token(request: Request, token: str) -> Principal | None:
    """A named token made with ``throughline tokens create``, while live."""
    state: AppState = request.app.state.throughline
    async with session_scope(state.read_sessionmaker) as session:
        row = await api_tokens.find(session, token, now=datetime.now(UTC))
    if row is None:
        return None
    return Principal(row.name, Role[row.role.upper()], frozenset(row.groups or ()))


async def _signed_in(request: Request, tokens: TokenRegistry) -> Principal | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    state: AppState = request.app.state.throughline
    async with session_scope(state.read_sessionmaker) as session:
        row = await web_sessions.find(session, secret, now=datetime.now(UTC))
    return tokens.for_session(row.principal, row.token_fingerprint) if row is not None else None


def require(role: Role) -> object:
    """A dependency that lets a request through only with a token of at least ``role``."""

    async def check(request: Request, state: StateDep) -> Principal:
        principal = await authenticate(request)
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "A valid API token is required (Authorization: Bearer <token>).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if principal.role < role:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"This needs the {role.name.lower()} role; the token "
                f"{principal.name!r} has {principal.role.name.lower()}.",
            )
        return principal

    return Depends(check)


ViewerDep = Annotated[Principal, require(Role.VIEWER)]
AdminDep = Annotated[Principal, require(Role.ADMIN)]
