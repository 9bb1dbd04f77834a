"""The JSON contract of items (DESIGN.md, Interfaces: ``Item``) and of an item's own page.

Field names are part of the contract. Times are ISO 8601 in the program's time zone when
the request names a program, else in UTC.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.programs.documents import examples
from vocabulary import ItemKind, StatusCategory


class _Out(BaseModel):
    model_config = ConfigDict(populate_by_name=True)


class Item(_Out):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.ITEM]}
    )

    source: str
    key: str
    url: str | None
    title: str
    kind: ItemKind
    status: str
    status_category: StatusCategory
    project: str | None
    project_name: str | None = Field(
        default=None, description="The project's name as the tracker calls it (Asana: by gid)"
    )
    parent_key: str | None
    assignee: str | None
    estimate: float | None
    start_on: date | None
    due_on: date | None
    created_at: datetime | None
    updated_at: datetime
    resolved_at: datetime | None
    labels: list[str]
    deleted: bool


class ItemPage(_Out):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.ITEM_PAGE]}
    )

    items: list[Item]
    next_cursor: str | None = Field(
        description="Pass as ``cursor`` (with the same filters) for the next page; null at the end"
    )


class LinkedItem(_Out):
    direction: Literal["blocks", "blocked_by"] = Field(
        description="blocks: this item blocks the other; blocked_by: the other blocks it"
    )
    source: str
    key: str
    title: str | None = Field(description="Null when Throughline does not hold the other item")
    url: str | None
    status_category: StatusCategory | None
    link_type: str | None
    cross_tracker: bool


class StatusChange(_Out):
    at: datetime
    from_: str | None = Field(alias="from")
    to: str
    from_category: StatusCategory | None
    to_category: StatusCategory | None
    author: str | None


class Feeds(_Out):
    program: str
    program_name: str
    outcome: str
    outcome_name: str


class Flag(_Out):
    program: str
    check: str


class ItemDetail(_Out):
    model_config = ConfigDict(
        populate_by_name=True, json_schema_extra={"examples": [examples.ITEM_DETAIL]}
    )

    item: Item
    parent_title: str | None = Field(default=None, description="The parent item's title")
    section: str | None
    issue_type: str | None
    components: list[str]
    timezone: str = Field(description="The zone the times are shown in")
    links: list[LinkedItem]
    restricted_links: int = Field(
        default=0, description="Links to items in programs the reader may not see (not named)"
    )
    history: list[StatusChange] = Field(description="Status changes, oldest first")
    feeds: list[Feeds] = Field(description="The outcomes whose figures count this item")
    flags: list[Flag] = Field(description="Data-quality checks that flagged this item")
