"""Cross-site request forgery protection for the pages' forms.

Every form carries a token that must equal the ``throughline_csrf`` cookie (HttpOnly,
SameSite=Strict): a page on another site can make a browser post, but cannot read the
cookie to copy it into the form. A browser's ``Origin`` header, when sent, must also name
one of this server's hosts as configured (``app.web.origins``), never the one the request
claims. This holds with ``auth: none`` too, where no session cookie exists and a forged
post would otherwise be trusted as an admin's.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

from app.web.origins import Hosts

COOKIE = "throughline_csrf"
FIELD = "csrf_token"
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class CsrfFailed(Exception):
    """A form post without the page's token, or from another site."""


def token(request: Request) -> str:
    """This browser's form token: the cookie's, or a new one ``remember`` will set."""
    existing = request.cookies.get(COOKIE)
    if existing and _SHAPE.match(existing):
        return existing
    fresh: str | None = getattr(request.state, "csrf_fresh", None)
    if fresh is None:
        fresh = secrets.token_urlsafe(32)
        request.state.csrf_fresh = fresh
    return fresh


def remember(request: Request, response: Response) -> None:
    """Set the cookie when ``token`` had to make one for this request."""
    fresh = getattr(request.state, "csrf_fresh", None)
    if fresh is not None:
        response.set_cookie(
            COOKIE,
            fresh,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def verify(request: Request, submitted: object) -> None:
    """Raise ``CsrfFailed`` unless the form's token matches and the origin is ours."""
    cookie = request.cookies.get(COOKIE, "")
    if not (
        isinstance(submitted, str)
        and cookie
        and hmac.compare_digest(cookie.encode(), submitted.encode())
    ):
        raise CsrfFailed("the form's security token is missing or out of date")
    origin = request.headers.get("origin")
    hosts: Hosts = request.app.state.hosts
    if origin is not None and urlsplit(origin).netloc not in hosts:
        raise CsrfFailed(f"the form was sent from {origin}, not from this site")
