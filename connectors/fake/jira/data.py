"""Deterministic generated data that looks like an organisation's Jira site.

Six projects (one keyed ``INT``, a reserved JQL word), epics with stories, tasks and bugs,
subtasks under them, story points, start and due dates, blocks links within and across
projects, half a year of status history, and a few hostile titles and a 1 MB description.
The same ``seed`` and ``anchor`` give the same site, byte for byte.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from connectors.fake.jira.model import (
    STATUS_BY_NAME,
    Issue,
    JiraData,
    Project,
    User,
)

PROJECTS = (
    Project("10100", "PAY", "Payments", ("Checkout", "Billing", "Fraud")),
    Project("10101", "WEB", "Web Platform", ("Frontend", "Design System")),
    Project("10102", "MOB", "Mobile Apps", ("iOS", "Android")),
    Project("10103", "OPS", "Operations", ("Infrastructure", "Observability")),
    Project("10104", "DATA", "Data Platform", ("Pipelines", "Warehouse")),
    Project("10105", "INT", "Integrations", ("Partners", "Webhooks")),
)
_WEIGHTS = (0.25, 0.2, 0.15, 0.15, 0.15, 0.1)
_FIRST = (
    "Ada",
    "Grace",
    "Linus",
    "Margaret",
    "Ken",
    "Barbara",
    "Dennis",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "Alan",
    "Katherine",
    "John",
    "Sophie",
)
_LAST = (
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Thompson",
    "Liskov",
    "Ritchie",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Kay",
    "Johnson",
)
_VERBS = (
    "Add",
    "Fix",
    "Migrate",
    "Refactor",
    "Instrument",
    "Design",
    "Remove",
    "Support",
    "Harden",
    "Document",
    "Speed up",
    "Localise",
)
_NOUNS = (
    "payment retries",
    "checkout form",
    "login flow",
    "audit log",
    "webhook delivery",
    "search index",
    "invoice export",
    "rate limiter",
    "push notifications",
    "dashboard",
    "currency rounding",
    "session timeout",
    "partner API",
    "data retention job",
)
_LABELS = (
    "checkout-v2",
    "tech-debt",
    "customer",
    "security",
    "q3-okr",
    "performance",
    "accessibility",
    "compliance",
)
_VERSIONS = ("2026.1", "2026.2", "2026.3", "2027.1")
HISTORY_SPAN = timedelta(days=180)
ONE_MB = 1024 * 1024

HOSTILE_TITLES = (
    '<script>alert("pwned")</script> Checkout button',
    "Quote \"double\" and 'single' and \\backslash\\ in the title",
    "Emoji rollout 🚀🔥 — ünïcödé — 中文 — עברית",
    "<img src=x onerror=alert(1)> &amp; & entity <b>bold</b>",
)
"""Placed on the first issues so that even a small site carries them."""


def users() -> list[User]:
    made = []
    for n in range(24):
        first, last = _FIRST[n % len(_FIRST)], _LAST[(n * 5) % len(_LAST)]
        login = f"{first}.{last}".lower().replace("-", "")
        made.append(
            User(
                f"5b10ac8d82e05b22cc7d{n:04d}",
                login,
                f"{first} {last}",
                f"{login}@example.com",
                email_visible=n % 3 != 0,
            )
        )
    return made


def generate(
    n_issues: int,
    *,
    seed: int = 1,
    anchor: datetime,
    clock: Callable[[], datetime] | None = None,
) -> JiraData:
    """A site of ``n_issues`` issues whose history ends by ``anchor``."""
    rng = random.Random(seed)
    data = JiraData(PROJECTS, users(), clock=clock or (lambda: datetime.now(UTC)))
    start = anchor - HISTORY_SPAN
    epics: dict[str, list[Issue]] = {p.key: [] for p in PROJECTS}
    standard: dict[str, list[Issue]] = {p.key: [] for p in PROJECTS}
    for n in range(n_issues):
        project = rng.choices(PROJECTS, _WEIGHTS)[0].key
        created = (
            start
            + HISTORY_SPAN * (0.9 * n / max(n_issues, 1))
            + timedelta(seconds=rng.randint(0, 600))
        )
        kind = _pick_kind(rng, epics[project], standard[project])
        issue = data.add(project, kind, f"{rng.choice(_VERBS)} {rng.choice(_NOUNS)}", at=created)
        _fill(rng, data, issue, epics[project], standard[project])
        _walk_history(rng, data, issue, anchor)
        if kind == "Epic":
            epics[project].append(issue)
        elif kind != "Sub-task":
            standard[project].append(issue)
    _hostile(data)
    _link(rng, data, standard)
    return data


def _pick_kind(rng: random.Random, epics: list[Issue], standard: list[Issue]) -> str:
    roll = rng.random()
    if not epics or roll < 0.05:
        return "Epic"
    if standard and roll < 0.15:
        return "Sub-task"
    return "Story" if roll < 0.6 else "Task" if roll < 0.75 else "Bug"


def _fill(
    rng: random.Random, data: JiraData, issue: Issue, epics: list[Issue], standard: list[Issue]
) -> None:
    kind = issue.type.name
    if kind == "Sub-task":
        issue.parent_id = rng.choice(standard[-20:]).id
    elif kind != "Epic" and rng.random() < 0.7:
        issue.parent_id = rng.choice(epics[-5:]).id
    if kind in ("Story", "Task", "Bug") and rng.random() < 0.75:
        issue.points = float(rng.choice((1, 2, 3, 5, 8, 13)))
    if rng.random() < (0.8 if kind == "Epic" else 0.2):
        issue.start = (issue.created + timedelta(days=rng.randint(0, 20))).date()
    if rng.random() < (0.9 if kind == "Epic" else 0.4):
        issue.due = (issue.created + timedelta(days=rng.randint(14, 120))).date()
    if rng.random() < 0.85:
        issue.assignee = rng.choice(data.users)
    issue.labels = tuple(sorted(set(rng.sample(_LABELS, rng.randint(0, 2)))))
    if rng.random() < 0.6:
        issue.components = (rng.choice(issue.project.components),)
    if rng.random() < 0.3:
        issue.fix_versions = (rng.choice(_VERSIONS),)
    if rng.random() < 0.3:
        issue.description = _description(rng, standard or epics)


def _description(rng: random.Random, others: list[Issue]) -> str:
    text = "As a customer I want this to work on every device.\n\nAcceptance: it ships."
    if others and rng.random() < 0.3:
        text += f"\n\nDepends on {rng.choice(others[-50:]).key} landing first."
    if rng.random() < 0.05:
        text += (
            f"\n\nTracked in https://app.asana.com/0/1200000000000101/{rng.randint(10**15, 10**16)}"
        )
    return text


def _walk_history(rng: random.Random, data: JiraData, issue: Issue, anchor: datetime) -> None:
    """Move the issue along To Do → In Progress → In Review → Done, at random times."""
    path = ["In Progress", "In Review", "Done"] if rng.random() < 0.6 else ["In Progress", "Done"]
    steps = rng.choices((0, 1, 2, 3), (0.25, 0.25, 0.2, 0.3))[0]
    if steps >= len(path):
        steps = len(path)
    if rng.random() < 0.03:
        path, steps = ["Won't Do"], 1
    window = max((anchor - issue.created).total_seconds(), 60.0)
    moments = sorted(rng.uniform(0, window) for _ in range(steps + 1))
    for name, offset in zip(path[:steps], moments, strict=False):
        at = issue.created + timedelta(seconds=offset, milliseconds=rng.randint(0, 999))
        data.transition(issue, STATUS_BY_NAME[name.casefold()], at=at, author=issue.assignee)
    if rng.random() < 0.15 and issue.assignee is not None:
        at = issue.created + timedelta(seconds=moments[-1])
        data.history(
            issue,
            "assignee",
            (None, None),
            (issue.assignee.account_id, issue.assignee.display_name),
            at=at,
            author=issue.assignee,
        )
        issue.updated = max(issue.updated, at)


def _hostile(data: JiraData) -> None:
    issues = list(data.issues.values())
    for issue, title in zip(issues[1::7], HOSTILE_TITLES, strict=False):
        issue.summary = title
    if len(issues) > 30:
        line = "ERROR payment-service: retry budget exhausted; see PAY-1 <b>not bold</b>\n"
        issues[30].description = "Attached log:\n" + line * (ONE_MB // len(line) + 1)


def _link(rng: random.Random, data: JiraData, standard: dict[str, list[Issue]]) -> None:
    """Blocks links, a quarter of them across projects, plus some links that are not."""
    pools = [pool for pool in standard.values() if len(pool) > 1]
    for pool in pools:
        for issue in pool:
            roll = rng.random()
            if roll >= 0.13:
                continue
            other_pool = rng.choice(pools) if rng.random() < 0.25 else pool
            other = rng.choice(other_pool)
            if other.id != issue.id:
                data.link("Blocks" if roll < 0.1 else "Relates", issue, other)
