"""Text a database can store: no NUL character, no unpaired surrogate.

JSON can carry both (``"\\u0000"``, ``"\\ud800"``) and Python strings hold them, but
PostgreSQL refuses NUL in text and neither database takes a string that is not valid
UTF-8. Input models check at the boundary, so such a request is a 422 naming the field
instead of an error from the database.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

PROBLEM = "contains a NUL character or an unpaired surrogate, which cannot be stored"


def storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError(PROBLEM)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(PROBLEM) from None
    return value


StorableText = Annotated[str, AfterValidator(storable)]
