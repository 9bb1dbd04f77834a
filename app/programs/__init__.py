"""Programs and their roll-ups: recomputing them from the store, the documents a
recomputation stores (and the API serves), daily snapshots, the roadmap and resources, the
risk register, changes since a date, and the item lists behind every figure."""

__all__ = [
    "changes",
    "dependency_map",
    "documents",
    "item_detail",
    "items",
    "loading",
    "lookup",
    "membership",
    "plans",
    "recompute",
    "record",
    "risks",
    "schedule",
    "snapshots",
    "team_updates",
]
