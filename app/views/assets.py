"""The stylesheet, served by the app itself: pages load nothing from anywhere else."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.views.context import renderer_of

router = APIRouter(include_in_schema=False)


@router.get("/static/throughline.css", name="stylesheet")
async def stylesheet(request: Request) -> Response:
    sheet = renderer_of(request).stylesheet
    # Pages ask for it with ?v=<version>, so a new stylesheet is a new address.
    return Response(
        sheet.body,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400", "ETag": f'"{sheet.version}"'},
    )
