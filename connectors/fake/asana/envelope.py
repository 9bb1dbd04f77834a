"""Asana's error envelope, ``{"errors": [{"message", "help", "phrase"}]}``, as an exception."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from connectors.fake.asana.render import FieldTree, parse_fields

HELP = (
    "For more information on API status codes and how to handle them, read the docs on "
    "errors: https://developers.asana.com/docs/errors"
)


class ApiError(Exception):
    """An Asana error answer; ``extra`` adds top-level keys (a 412's ``sync``)."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        self.status, self.message, self.extra = status, message, extra
        super().__init__(message)

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        error: dict[str, Any] = {"message": self.message, "help": HELP}
        if self.status >= 500:
            error["phrase"] = "6 sad squid snuggle softly"
        return JSONResponse({"errors": [error], **self.extra}, self.status, headers=headers)


def fields_of(request: Request) -> FieldTree | None:
    """The ``opt_fields`` tree of a request; None asks for the compact form."""
    return parse_fields(request.query_params.get("opt_fields"))
