"""Weekly status reports: written from a day's frozen snapshot, archived, delivered.

``weeks`` says which day a week's report covers; ``record`` what a snapshot keeps for it;
``compose`` gathers a report from the store into ``schemas.WeeklyReport``; ``render``
writes its HTML, Markdown and Confluence forms (``text`` escapes tracker text for each);
``service`` generates, archives and annotates reports; ``delivery`` sends them to Slack,
Confluence and e-mail; ``runs`` is the scheduled work; ``site`` writes the static
archive; ``cli`` is ``throughline report``.
"""

__all__ = [
    "compose",
    "delivery",
    "explained",
    "render",
    "runs",
    "schedule",
    "schemas",
    "service",
    "site",
    "text",
    "weeks",
]
