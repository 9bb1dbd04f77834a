"""Seconds since the epoch of a stored instant, computed by the database.

Reading a hundred thousand instants as ``datetime`` objects costs more than everything
done with them afterwards; analytics that only need the number ask the database for it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch_seconds(FunctionElement[float]):
    """``epoch_seconds(column)``: the instant as float seconds since 1970-01-01 UTC."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # SQLite keeps instants as UTC text; julianday reads it, and day 2440587.5 is the epoch.
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_seconds)
def _standard(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return (
        f"CAST(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) AS DOUBLE PRECISION)"
    )
