"""Every answer to a reader who may not see every program, with restricted work unnamed.

The lookups already answer 404 for a restricted program and leave it out of lists; this
is the last step before the answer leaves, for what remains: mentions of restricted work
inside the figures of programs the reader sees (``app.programs.redaction``). It holds
back the body of a textual answer (JSON, HTML, CSV, Markdown, SVG) to a request whose
reader has restricted programs, replaces the restricted words and sends it on; a streamed
answer is rewritten chunk by chunk (each chunk holds whole rows). Readers who see every
program (admins, ``auth: none``, a configuration without restrictions) pass untouched.
"""

from __future__ import annotations

import json

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.programs import access, redaction
from app.reports import text
from app.runtime.state import AppState
from app.store.engine import session_scope

_TEXTUAL = ("text/", "application/json", "image/svg+xml", "application/xml")


class RedactRestricted:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chosen: redaction.Redaction | None = None
        is_json = False
        body: list[bytes] = []

        async def rewrite(message: Message) -> None:
            nonlocal start, chosen, is_json
            if message["type"] == "http.response.start":
                chosen = await _redaction_for(scope, message)
                if chosen is redaction.NOTHING:
                    await send(message)
                    return
                start, is_json = message, _content_type(message).startswith("application/json")
                return
            if message["type"] != "http.response.body" or chosen in (None, redaction.NOTHING):
                await send(message)
                return
            assert chosen is not None
            more = bool(message.get("more_body", False))
            if is_json:
                body.append(message.get("body", b""))
                if more:
                    return
                out = _json(chosen, b"".join(body))
            else:
                out = chosen.text(message.get("body", b"").decode("utf-8", "replace")).encode()
            if start is not None:
                headers = MutableHeaders(scope=start)
                if "content-length" in headers:
                    if more:
                        del headers["content-length"]
                    else:
                        headers["content-length"] = str(len(out))
                await send(start)
                start = None
            await send({"type": "http.response.body", "body": out, "more_body": more})

        await self.app(scope, receive, rewrite)


def _json(chosen: redaction.Redaction, raw: bytes) -> bytes:
    try:
        found = json.loads(raw)
    except ValueError:
        return chosen.text(raw.decode("utf-8", "replace")).encode()
    return json.dumps(chosen.data(found), ensure_ascii=False, separators=(",", ":")).encode()


def _content_type(message: Message) -> str:
    for name, value in message.get("headers", []):
        if name.lower() == b"content-type":
            return bytes(value).decode("latin-1").lower()
    return ""


async def _redaction_for(scope: Scope, start: Message) -> redaction.Redaction:
    """The redaction of this answer's reader, once authenticated; NOTHING otherwise."""
    if not _content_type(start).startswith(_TEXTUAL):
        return redaction.NOTHING
    principal = scope.get("state", {}).get("principal")
    if principal is None:
        return redaction.NOTHING  # nobody signed in is shown any program's figures
    audience = principal.audience
    state: AppState | None = getattr(scope["app"].state, "throughline", None)
    if state is None:
        return redaction.NOTHING
    with access.seen_by(audience):
        if not access.hidden_keys(state.config):
            return redaction.NOTHING
        async with session_scope(state.read_sessionmaker) as session:
            return await redaction.for_reader(session, state.config, (text.escape_markdown,))
