"""The API's interactive documentation at ``/docs``: Swagger UI from the installed
``swagger-ui-bundle`` package, served by this server (no CDN, so it works offline and
behind a firewall), in the site's layout, started by a script file of our own."""

from __future__ import annotations

from importlib.metadata import version

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response
from swagger_ui_bundle import swagger_ui_path

from app.render import templates
from app.web.pages.context import renderer_of

router = APIRouter(include_in_schema=False)

ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}
CACHED = {"Cache-Control": "public, max-age=86400"}


@router.get("/docs", name="api_docs")
async def api_docs(request: Request) -> Response:
    return renderer_of(request).page(
        request,
        "docs.html",
        {"viewer": None, "open_access": False, "swagger_version": version("swagger-ui-bundle")},
    )


@router.get("/docs/docs.js", name="api_docs_script")
async def api_docs_script() -> Response:
    body = (templates.templates_dir() / "static" / "docs.js").read_text(encoding="utf-8")
    return Response(body, media_type="text/javascript; charset=utf-8", headers=CACHED)


@router.get("/docs/{name}", name="api_docs_asset")
async def api_docs_asset(name: str) -> Response:
    if name not in ASSETS:
        raise HTTPException(404, "There is no such file in the API's documentation.")
    body = (swagger_ui_path / name).read_bytes()
    return Response(body, media_type=ASSETS[name], headers=CACHED)
