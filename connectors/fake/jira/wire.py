"""The fake's wire details: request parameters, page tokens and Jira-shaped error bodies."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, *messages: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.messages, self.headers = status, messages, headers


async def params_of(request: Request) -> dict[str, Any]:
    if request.method == "POST":
        return await json_of(request)
    params: dict[str, Any] = dict(request.query_params)
    fields = request.query_params.getlist("fields")
    if len(fields) > 1:
        params["fields"] = fields
    return params


async def json_of(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ApiError(400, "Unexpected character: the request body is not JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object.")
    return body


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in value]


def encode_token(scope: str, after: Sequence[int] | int) -> str:
    payload = {"q": hashlib.sha256(scope.encode()).hexdigest()[:16], "a": after}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def decode_token(token: Any, scope: str) -> Any:
    """The position a token stands for; a token from another query is refused."""
    if not token:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        if payload["q"] != hashlib.sha256(scope.encode()).hexdigest()[:16]:
            raise ValueError("token from another query")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise ApiError(400, "The provided next page token is invalid or expired.") from None
    after = payload["a"]
    return tuple(after) if isinstance(after, list) else after


def error(status: int, *messages: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"errorMessages": list(messages), "errors": {}}, status_code=status, headers=headers
    )
