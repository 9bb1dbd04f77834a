"""An item's fields, restated by each layer that holds one, must not drift apart.

A tracker record (``TrackerItem``) is stored as a row (``ItemRow``), loaded for the roll-up
as a ``WorkItem`` and served as the API's ``Item``. Each layer keeps what it needs; this
test names what each one keeps apart from the others, so a field added in one place and
forgotten in the next fails here instead of silently not reaching a page.
"""

from __future__ import annotations

import dataclasses

from app.programs import documents
from app.store import records
from app.store.tables import ItemRow
from connectors.base import TrackerItem
from rollup.model import WorkItem
from tests.builders import T0, make_item

TRACKER_ONLY = {"source", "links", "references", "transitions"}
"""Stored elsewhere: the source as ``source_id``, links, mentions and history in their tables."""
ROW_ONLY = {"id", "source_id", "deleted", "deleted_at", "synced_at"}
"""The store's own bookkeeping."""
NOT_ROLLED_UP = {"external_id", "hierarchy_level", "fix_versions"}
"""Stored columns the roll-up does not read (identity, Jira's level, versions)."""
DERIVED_FOR_ROLLUP = {"source", "deleted", "ref", "parent_ref", "done", "completed_at"}
"""What a ``WorkItem`` adds: its identity across trackers and what the history tells."""
FROM_HISTORY = {"started_at", "done_at"}
"""Read from the status history when an item is loaded."""


def _columns() -> set[str]:
    return {column.key for column in ItemRow.__table__.columns}


def _fields(cls: type) -> set[str]:
    return {field.name for field in dataclasses.fields(cls)}


def test_every_tracker_field_is_stored_and_every_column_comes_from_the_tracker() -> None:
    assert _fields(TrackerItem) - TRACKER_ONLY == _columns() - ROW_ONLY


def test_the_write_path_writes_every_column_but_the_row_id() -> None:
    row = records.item_row(7, make_item("PAY-1"), T0)
    assert set(row) == _columns() - {"id"}


def test_the_bulk_write_binds_the_same_columns_as_the_row() -> None:
    assert set(records.ITEM_COLUMNS) == _columns() - {"id"}
    row = records.item_row(7, make_item("PAY-1"), T0)
    values = records.item_values(7, make_item("PAY-1"), T0, postgres=True)
    bound = dict(zip(records.ITEM_COLUMNS, values, strict=True))
    assert {c: bound[c] for c in ("key", "title", "updated_at", "synced_at")} == {
        c: row[c] for c in ("key", "title", "updated_at", "synced_at")
    }


def test_the_roll_up_reads_every_stored_column_it_does_not_declare_unread() -> None:
    stored = _columns() - ROW_ONLY - NOT_ROLLED_UP
    assert _fields(WorkItem) == stored | DERIVED_FOR_ROLLUP | FROM_HISTORY


JOINED_FOR_THE_API = {"source", "project_name"}
"""Served from the item's source and project rows."""


def test_the_api_serves_only_what_is_stored() -> None:
    served = set(documents.Item.model_fields)
    assert served - JOINED_FOR_THE_API - {"deleted"} <= _columns()
    assert {"key", "title", "status", "status_category", "url", "updated_at"} <= served
