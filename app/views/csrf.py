"""CSRF protection for the pages' forms: a double-submit token and an origin check.

A page with a form sets a random token in a ``SameSite=Strict`` cookie and repeats it in
a hidden field; a form post is accepted only when both match and, if the browser names
the page's origin, it is this server. Another site can make a browser post, but it can
neither read the cookie nor make the browser send it along.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, Response, status

COOKIE = "throughline_csrf"
FIELD = "csrf_token"


def token_for(request: Request) -> str:
    """The browser's token, or a new one (``remember`` sets it on the response)."""
    return request.cookies.get(COOKIE) or secrets.token_urlsafe(32)


def remember(response: Response, request: Request, token: str) -> None:
    if request.cookies.get(COOKIE) != token:
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


def check(request: Request, submitted: str) -> None:
    """Refuse (403) a form post without the browser's token or from another origin."""
    cookie = request.cookies.get(COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, submitted):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "The form expired: reload the page.")
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.url.netloc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Forms are only accepted from this site.")
