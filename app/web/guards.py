"""ASGI guards every request passes before any route sees it.

- ``RequestId``: each request gets an id (the caller's ``X-Request-ID`` when it is a
  sane token, else a fresh one), returned in ``X-Request-ID`` and carried by every log
  record written while the request is served (``app.telemetry.logs.request_id_var``).
- ``LimitBody``: a request body larger than ``server.max_body_bytes`` is refused with 413,
  whether it declares its length or streams it, before it is buffered.
- ``BodyDeadline``: a request body not all there within ``server.body_timeout_seconds``
  is answered 408 and its connection closed, so a client that sends slowly or stops
  half-way holds nothing for long (the webhook intake keeps the same deadline itself).
- ``RejectNul``: an address carrying a NUL character (``%00``) is a 400. A NUL decoded
  from a path or query parameter would reach a query as a parameter, and PostgreSQL
  refuses NUL in text: the request would fail as a server error instead of being told
  plainly that it is malformed.
"""

from __future__ import annotations

import asyncio
import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.programs import access
from app.telemetry import logs

MESSAGE = "The address contains a NUL character (%00), which is never valid here."
REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RejectNul:
    """ASGI middleware answering 400 to any HTTP request whose path or query has ``%00``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path") or scope["path"].encode()
            if b"%00" in raw or b"%00" in scope.get("query_string", b""):
                await JSONResponse({"detail": MESSAGE}, status_code=400)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RequestId:
    """Gives every HTTP request an id, in its logs and in the answer's ``X-Request-ID``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), ""
        )
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        token = logs.request_id_var.set(request_id)
        try:
            # Until the request is authenticated, it sees only programs open to everyone.
            with access.seen_by(access.PUBLIC):
                await self.app(scope, receive, send_with_id)
        finally:
            logs.request_id_var.reset(token)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than the {limit:,} bytes accepted.")


class LimitBody:
    """Refuses request bodies over ``max_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # An HTTPException, so FastAPI's body parsing passes it on as a 413.
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        detail = BodyTooLarge(self.max_bytes).detail
        await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)


class BodyTimedOut(HTTPException):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"The request body did not arrive within {seconds:g} seconds.",
            headers={"Connection": "close"},
        )


class BodyDeadline:
    """Answers 408 (and closes the connection) when a body is not all there in time.

    Only the body is timed: once its last part has arrived, waiting on ``receive`` (a
    streamed answer listening for the client to hang up) is not.
    """

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.seconds
        complete = False
        started = False

        async def timed() -> Message:
            nonlocal complete
            if complete:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                # An HTTPException, so FastAPI's body parsing passes it on as a 408.
                raise BodyTimedOut(self.seconds) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                complete = True
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, timed, tracked)
        except BodyTimedOut as exc:
            if started:
                raise
            answer = JSONResponse({"detail": exc.detail}, status_code=408, headers=exc.headers)
            await answer(scope, receive, send)
