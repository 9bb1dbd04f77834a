"""The stylesheet, served by the app itself: pages load nothing from anywhere else."""

from __future__ import annotations

import base64

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.web.pages.context import renderer_of

router = APIRouter(include_in_schema=False)

# A transparent 1×1 PNG: browsers ask for /favicon.ico on every page that names no icon
# (the standalone report pages, /docs), and a 404 there shows up as a console error.
FAVICON = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


@router.get("/static/throughline.css", name="stylesheet")
async def stylesheet(request: Request) -> Response:
    sheet = renderer_of(request).stylesheet
    # Pages ask for it with ?v=<version>, so a new stylesheet is a new address.
    return Response(
        sheet.body,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400", "ETag": f'"{sheet.version}"'},
    )


@router.get("/favicon.ico", name="favicon")
async def favicon() -> Response:
    return Response(
        FAVICON, media_type="image/png", headers={"Cache-Control": "public, max-age=604800"}
    )
