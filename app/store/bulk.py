"""Bulk statements for the tracker tables, one round trip per batch, below the ORM.

A full sync writes hundreds of thousands of rows; SQLAlchemy's per-value bind processing
(time zones, JSON, enums) and a compiled multi-row ``VALUES`` per batch cost more than the
database's own work. Here rows are built once as plain tuples of what the driver takes:

- PostgreSQL: the whole batch as one JSON array of rows (``orjson``, tens of times faster
  than binding values one by one), ``INSERT … SELECT … FROM json_array_elements(…)``:
  the statement text is the same whatever the batch size, so psycopg prepares it once
  and each batch is one round trip with one parameter;
- SQLite: one multi-row ``VALUES`` of pre-converted values (UTC text timestamps in
  SQLAlchemy's own storage format, JSON text, 0/1), within SQLite's bound-parameter limit.

The values and the rules are exactly those of the ORM types they replace
(``UTCDateTime``, ``JSON``, the vocabulary columns): a naive datetime is refused, and a
value the database refuses (too long, out of range) fails the batch as it did before.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

SQLITE_MAX_PARAMS = 32_000
"""Below SQLite's 32,766 bound parameters a statement (3.32 and later)."""

_PG_CASTS = {
    "INTEGER": "(r->>{n})::int4",
    "FLOAT": "(r->>{n})::float8",
    "BOOLEAN": "(r->>{n})::bool",
    "DATE": "(r->>{n})::date",
    "TIMESTAMP WITH TIME ZONE": "(r->>{n})::timestamptz",
    "JSON": "(r->>{n})::json",
}
"""How each column's value is read from a row of the batch (``jsonb``: each read is a
lookup, not a parse); a JSON column comes as its own text, so that what is stored is what
was written, keys in their order. Text columns are read as
``text`` and assigned, so that a value too long for its ``VARCHAR(n)`` fails the insert as
before instead of being cut by a cast."""


def utc(value: datetime | None) -> datetime | None:
    """An instant in UTC, as ``UTCDateTime`` stores it; a naive value is refused."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"refusing to store a datetime without a time zone: {value}")
    return value.astimezone(UTC)


def sqlite_datetime(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite storage of a ``DateTime``, in UTC: text that sorts by time
    (microseconds always written, as SQLAlchemy does)."""
    if value is None:
        return None
    # Records carry UTC already (the connectors convert): no conversion for those, and
    # their text ends in "+00:00", which is cut off rather than the zone taken out first.
    moment = value if value.tzinfo is UTC else utc(value)
    assert moment is not None
    text = moment.isoformat(" ")[:-6]
    return text if moment.microsecond else text + ".000000"


def sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def json_text(value: Any) -> str:
    """A JSON column's text, as SQLAlchemy's ``JSON`` type would read it back."""
    return "[]" if value == [] else orjson.dumps(value).decode()


_PG = postgresql.dialect()  # type: ignore[no-untyped-call]


@dataclass(frozen=True, slots=True, eq=False)
class BulkTable:
    """One table's bulk statements on one dialect."""

    table: Table
    columns: tuple[str, ...]
    postgres: bool

    def placeholders(self, rows: int) -> str:
        if self.postgres:
            values = ", ".join(
                _PG_CASTS.get(self.table.c[c].type.compile(_PG).upper(), "r->>{n}").format(n=n)
                for n, c in enumerate(self.columns)
            )
            return f"SELECT {values} FROM jsonb_array_elements(%s::jsonb) AS r"  # noqa: S608
        one = "(" + ", ".join("?" * len(self.columns)) + ")"
        return "VALUES " + ", ".join([one] * rows)

    def batches(self, count: int) -> list[tuple[int, int]]:
        """``(start, stop)`` of each statement's rows: a page's worth at once on PostgreSQL
        (one parameter), sizes in powers of two on SQLite (see ``sqlite_batches``)."""
        if self.postgres:
            return [(start, min(count, start + 5_000)) for start in range(0, count, 5_000)]
        return sqlite_batches(count, SQLITE_MAX_PARAMS // len(self.columns))

    def insert(self, rows: int, tail: str) -> str:
        return _statement(self, rows, tail)

    def params(self, rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
        if self.postgres:
            return (orjson.dumps(rows).decode(),)
        return tuple(itertools.chain.from_iterable(rows))


def sqlite_batches(count: int, most: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of batches of at most ``most`` rows, each a power of two.

    The sqlite3 module keeps every statement it prepared (128 a connection), and one of a
    thousand rows' placeholders holds a megabyte: batches of any size made a sync's memory
    grow with the site (400 MB at 100,000 issues). Powers of two give each table about ten
    statements, however many rows come, at a few more statements a page.
    """
    top = 1 << (max(1, most).bit_length() - 1)
    found, start = [], 0
    while start < count:
        size = top
        while size > count - start:
            size >>= 1
        found.append((start, start + size))
        start += size
    return found


@functools.lru_cache(maxsize=256)
def _statement(bulk: BulkTable, rows: int, tail: str) -> str:
    cols = ", ".join(bulk.columns)
    return f"INSERT INTO {bulk.table.name} ({cols}) {bulk.placeholders(rows)} {tail}"


async def insert_rows(
    connection: AsyncConnection,
    bulk: BulkTable,
    rows: Sequence[tuple[Any, ...]],
    tail: Callable[[BulkTable], str],
) -> list[Any]:
    """Insert ``rows`` (tuples in ``bulk.columns`` order) in as few statements as the
    dialect allows; return the values of the ``RETURNING`` column, if ``tail`` has one."""
    returned: list[Any] = []
    suffix = tail(bulk)
    for start, stop in bulk.batches(len(rows)):
        chunk = rows[start:stop]
        result = await connection.exec_driver_sql(
            bulk.insert(len(chunk), suffix), bulk.params(chunk)
        )
        if result.returns_rows:
            returned.extend(result.scalars())
    return returned


async def count_inserted(
    connection: AsyncConnection,
    bulk: BulkTable,
    rows: Sequence[tuple[Any, ...]],
    tail: Callable[[BulkTable], str],
) -> int:
    """Insert ``rows`` as ``insert_rows`` does (``tail`` without ``RETURNING``); return how
    many rows the statements inserted, as the driver counts them, without sending back a
    value per row."""
    count = 0
    suffix = tail(bulk)
    for start, stop in bulk.batches(len(rows)):
        chunk = rows[start:stop]
        result = await connection.exec_driver_sql(
            bulk.insert(len(chunk), suffix), bulk.params(chunk)
        )
        count += max(0, int(result.rowcount or 0))
    return count


async def for_each_id(
    connection: AsyncConnection,
    statements: tuple[str, str],
    head: tuple[Any, ...],
    ids: Sequence[str],
) -> int:
    """Run a statement over a set of ids; count the rows it returns (or changed).

    ``statements`` is the PostgreSQL form, whose first placeholder takes the ids as one
    ``text[]`` (joined as ``unnest(…)``: a hash join, where ``= ANY(…)`` would compare
    every row of the source with every id until the planner has statistics), then the
    SQLite form, where ``{ids}`` stands for ``(?, ?, …)``. Both take ``head`` after that.
    """
    if not ids:
        return 0
    postgres = connection.dialect.name == "postgresql"
    count = 0
    batches = [(0, len(ids))] if postgres else sqlite_batches(len(ids), SQLITE_MAX_PARAMS // 2)
    for start, stop in batches:
        chunk = list(ids[start:stop])
        if postgres:
            statement, params = statements[0], (chunk, *head)
        else:
            marks = "(" + ", ".join("?" * len(chunk)) + ")"
            statement, params = statements[1].format(ids=marks), (*head, *chunk)
        result = await connection.exec_driver_sql(statement, params)
        count += len(result.all()) if result.returns_rows else int(result.rowcount or 0)
    return count
