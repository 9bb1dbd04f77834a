"""The API's interactive documentation at ``/docs``: Swagger UI 5 (it reads OpenAPI 3.1,
which FastAPI writes) from the files the ``fastapi-offline`` package ships, served by this
server (no CDN, so it works offline and behind a firewall), in the site's layout, started
by a script file of our own."""

from __future__ import annotations

from importlib import resources
from importlib.metadata import version

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from app.render import templates
from app.web.pages.context import renderer_of

router = APIRouter(include_in_schema=False)

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}
CACHED = {"Cache-Control": "public, max-age=86400"}
SHIPPED_BY = "fastapi-offline"


@router.get("/docs", name="api_docs")
async def api_docs(request: Request) -> Response:
    return renderer_of(request).page(
        request,
        "docs.html",
        {"viewer": None, "open_access": False, "swagger_version": version(SHIPPED_BY)},
    )


OURS = {"docs.js": "text/javascript; charset=utf-8", "docs.css": "text/css; charset=utf-8"}


@router.get("/docs/docs.js", name="api_docs_script")
@router.get("/docs/docs.css", name="api_docs_style")
async def api_docs_own(request: Request) -> Response:
    """The starter script and the stylesheet that fits Swagger UI to the site."""
    name = request.url.path.rsplit("/", 1)[-1]
    body = (templates.templates_dir() / "static" / name).read_text(encoding="utf-8")
    return Response(body, media_type=OURS[name], headers=CACHED)


@router.get("/docs/{name}", name="api_docs_asset")
async def api_docs_asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, "There is no such file in the API's documentation.")
    body = (resources.files("fastapi_offline") / "static" / name).read_bytes()
    return Response(body, media_type=ASSETS[name], headers=CACHED)
