"""What every page route receives: who is looking, and how to render and cache for them.

Pages take the same tokens as the API, through the session the sign-in page opens.
A visitor without one is sent to sign in (and back afterwards); one whose role is too low
gets a plain 403 page. Errors on pages are pages; under ``/api`` they stay JSON.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.programs.lookup import StoredReads
from app.web.api import errors
from app.web.auth import Principal, Role
from app.web.cache import ResponseCache
from app.web.deps import StateDep, authenticate, response_cache_of, tokens_of
from app.web.pages import csrf
from app.web.pages.render import Renderer


class SignInRequired(Exception):
    """A page was asked for without a valid session; ``next`` is where to return."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


class NotAllowed(Exception):
    """The visitor is signed in, but their role is too low for this page or form."""


@dataclass(frozen=True, slots=True)
class PageContext:
    request: Request
    viewer: Principal
    open_access: bool
    renderer: Renderer
    cache: ResponseCache

    def render(self, name: str, context: dict[str, Any], *, status_code: int = 200) -> Response:
        """A page with the layout's own context (who is signed in, open access) added."""
        base = {
            "viewer": self.viewer,
            "open_access": self.open_access,
            "is_admin": self.viewer.role >= Role.ADMIN,
        }
        response = self.renderer.page(
            self.request, name, {**base, **context}, status_code=status_code
        )
        csrf.remember(self.request, response)
        return response

    def render_kept(
        self,
        name: str,
        context: Callable[[], dict[str, Any]],
        *,
        reads: StoredReads,
        program_id: int,
        inputs: Hashable,
    ) -> Response:
        """A page whose blocks depend on ``inputs`` alone: rendered once for them and kept
        in ``reads`` (compared equal, never stale); the layout around them per request."""
        parts = reads.find(program_id, name, inputs)
        if parts is None:
            parts = self.renderer.parts(name, context())
            reads.keep(program_id, name, inputs, parts)
        return self.render("kept.html", {"parts": {"head": "", **parts}})

    async def cached(self, build: Callable[[], Awaitable[Response]]) -> Response:
        """The page from the short-lived cache, per address and viewer (never with forms)."""
        key = (str(self.request.url), self.viewer, self.open_access)
        return await self.cache.get(key, build)


def renderer_of(request: Request) -> Renderer:
    found: Renderer = request.app.state.renderer
    return found


def page_for(role: Role) -> object:
    async def build(request: Request, state: StateDep) -> PageContext:
        principal = await authenticate(request)
        if principal is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise SignInRequired(target)
        if principal.role < role:
            raise NotAllowed(
                f"This needs the {role.name.lower()} role; you are signed in as "
                f"{principal.name} ({principal.role.name.lower()})."
            )
        return PageContext(
            request=request,
            viewer=principal,
            open_access=not tokens_of(request).enabled,
            renderer=renderer_of(request),
            cache=response_cache_of(request),
        )

    return Depends(build)


PageDep = Annotated[PageContext, page_for(Role.VIEWER)]
AdminPageDep = Annotated[PageContext, page_for(Role.ADMIN)]


def _is_api(request: Request) -> bool:
    """Whether an error should be JSON: under /api, or for a client that is no browser."""
    path = request.url.path
    if path == "/api" or path.startswith(("/api/", "/webhooks/")):
        return True
    return "text/html" not in request.headers.get("accept", "")


def _error_page(request: Request, status_code: int, title: str, message: str) -> Response:
    response = renderer_of(request).page(
        request,
        "error.html",
        {"title": title, "message": message, "viewer": None, "open_access": False},
        status_code=status_code,
    )
    return response


async def sign_in_required(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(f"/sign-in?next={quote(exc.next_url, safe='/')}", status_code=303)


async def not_allowed(request: Request, exc: Exception) -> Response:
    return _error_page(request, 403, "Not allowed", str(exc))


async def csrf_failed(request: Request, exc: Exception) -> Response:
    return _error_page(
        request,
        403,
        "This form could not be accepted",
        f"For your safety it was refused: {exc}. Go back, reload the page and try again.",
    )


async def not_found(request: Request, exc: Exception) -> Response:
    """The programs' and items' ``NotFound``: JSON under /api, a page elsewhere."""
    if _is_api(request):
        return JSONResponse({"detail": str(exc)}, status_code=404)
    return _error_page(request, 404, "Not found", str(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    """Starlette's HTTP errors (an unknown address, a wrong method) as pages off the API."""
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    return _error_page(request, exc.status_code, "Sorry", str(exc.detail))


async def invalid_request(request: Request, exc: Exception) -> Response:
    """A page asked for with a value it cannot take: a page naming each field and what is
    wrong with it (the API's answer stays FastAPI's JSON)."""
    assert isinstance(exc, RequestValidationError)
    if _is_api(request):
        return await errors.validation_error(request, exc)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'the request'}: {e.get('msg', '')}"
        for e in exc.errors()
    )
    return _error_page(
        request,
        422,
        "This address asks for something the page cannot show",
        f"{problems}. Leave a field empty to mean “any”.",
    )


async def server_error(request: Request, exc: Exception) -> Response:
    """An unexpected failure: a page in the site's layout, JSON under /api (the error
    itself is logged by the server, never shown)."""
    if _is_api(request):
        return JSONResponse({"detail": "Internal Server Error"}, status_code=500)
    return _error_page(
        request,
        500,
        "Something went wrong",
        "The server could not answer this page. The failure has been logged; try again in a "
        "moment.",
    )
