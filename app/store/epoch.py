"""Stored instants read as seconds since the epoch, for analytics over many rows.

Building a ``datetime`` for each of a hundred thousand instants costs more than
everything done with them afterwards. ``instant(column)`` reads the stored value as
cheaply as the database allows — SQLite's own text, PostgreSQL's
``EXTRACT(EPOCH ...)`` — and ``seconds`` turns a column of them into one numpy array.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType


class instant(FunctionElement[Any]):
    """A stored instant, unconverted: UTC text on SQLite, epoch seconds elsewhere."""

    type = NullType()
    inherit_cache = True


@compiles(instant, "sqlite")
def _sqlite(element: instant, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


@compiles(instant)
def _standard(element: instant, compiler: Any, **kw: Any) -> str:
    return (
        f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"
    )


def seconds(values: Sequence[str | float | None]) -> npt.NDArray[np.float64]:
    """``instant`` values as float seconds since 1970-01-01 UTC (NaN for none)."""
    if not any(isinstance(v, str) for v in values):
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    # SQLite's text is UTC without a zone ("2026-11-20 09:00:00.000000"): numpy reads it.
    parsed = np.array(["NaT" if v is None else v for v in values], dtype="datetime64[us]")
    found = parsed.astype(np.int64) / 1e6
    found[np.isnat(parsed)] = np.nan
    return found
