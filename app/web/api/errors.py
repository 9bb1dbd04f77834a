"""Error answers: validation errors in FastAPI's own shape, safe to send whatever the
client sent; and a database with no free connection as a 503 to retry, not a 500.

FastAPI's default answer echoes each bad ``input``; a string holding an unpaired
surrogate (valid in JSON, not in UTF-8) would then fail to encode and turn a 422 into a
server error. Such text is sent back with the offending characters escaped.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.responses import Response


def _encodable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    return value


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    detail = _encodable(jsonable_encoder(exc.errors()))
    return JSONResponse({"detail": detail}, status_code=422)


async def database_busy(request: Request, exc: Exception) -> Response:
    """No database connection came free in time (``THROUGHLINE_DATABASE_POOL_TIMEOUT``)."""
    return JSONResponse(
        {"detail": "The database is busy; try again in a moment."},
        status_code=503,
        headers={"Retry-After": "5"},
    )
