"""CSV for spreadsheets: every cell a plain value, none of them a formula.

Tracker text is untrusted, and a spreadsheet runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return that hides one) as a formula. Such a cell is
prefixed with a single quote, the convention spreadsheets show as text (OWASP's advice
on CSV injection).

An export is streamed a batch at a time, each batch read in a short session of its own
(``app.programs.items.iter_batches``): a client that stops reading holds its socket, not
a database connection. ``ExportSlots`` bounds how many one client address streams at once,
and how many batches all exports read at once (half the pool: the rest stays free for
everything else).
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Sequence
from datetime import date, datetime

from pydantic import BaseModel
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

MEDIA_TYPE = "text/csv; charset=utf-8"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | bool | date | datetime | list[str] | None


def cell(value: Cell) -> str:
    """One value as a cell: numbers as they are, text defused, lists space-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    text = " ".join(value) if isinstance(value, list) else value
    return "'" + text if text.startswith(_FORMULA_START) else text


def lines(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """The header and rows as CSV text (RFC 4180: CRLF line ends, quoted where needed)."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()


def of_models(models: Iterable[BaseModel], header: Sequence[str], *, with_header: bool) -> str:
    """Models as CSV rows, one column per named field."""
    rows = [[getattr(m, name) for name in header] for m in models]
    return lines(header if with_header else (), rows)


def wants_csv(accept: str | None) -> bool:
    """Whether an ``Accept`` header prefers CSV to JSON (by q-value; JSON wins ties)."""
    if not accept:
        return False
    weights: dict[str, float] = {}
    for part in accept.split(","):
        media, _, params = part.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        weights[media.strip().lower()] = q
    csv_q = weights.get("text/csv", 0.0)
    json_q = max(weights.get("application/json", 0.0), weights.get("*/*", 0.0) * 0.99)
    return csv_q > 0 and csv_q > json_q


async def iter_csv(
    batches: AsyncIterable[Sequence[BaseModel]], header: Sequence[str]
) -> AsyncIterator[str]:
    """A stream of models as CSV: the header first, then each batch as it comes."""
    yield lines(header, ())
    async for batch in batches:
        yield of_models(batch, header, with_header=False)


class ExportSlots:
    """The exports each client address is streaming: at most ``per_client`` at once; and
    the ``reads`` gate every export's batches pass, one database connection each."""

    def __init__(self, per_client: int, *, concurrent_reads: int = 4) -> None:
        self.per_client = per_client
        self.reads = asyncio.Semaphore(concurrent_reads)
        self._streaming: Counter[str] = Counter()

    def take(self, client: str) -> Callable[[], None] | None:
        """A slot for ``client`` (call the result to give it back), or None when it has
        all it may have."""
        if self._streaming[client] >= self.per_client:
            return None
        self._streaming[client] += 1
        given_back = False

        def give_back() -> None:
            nonlocal given_back
            if not given_back:
                given_back = True
                self._streaming[client] -= 1
                if not self._streaming[client]:
                    del self._streaming[client]

        return give_back


class SlottedStream(StreamingResponse):
    """A streamed answer that gives its export slot back however it ends: read to the
    end, cut off by the client, or failed."""

    def __init__(
        self, content: AsyncIterable[str], *, release: Callable[[], None], **kwargs: object
    ) -> None:
        super().__init__(content, **kwargs)  # type: ignore[arg-type]
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
