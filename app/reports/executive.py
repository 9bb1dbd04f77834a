"""The report read as a VP reads it: plain sentences composed from the data, no model.

Everything here is a pure function of what the snapshots froze (the status documents, the
outlook, the open risks) and of the program manager's notes, so the same week always
reads the same. ``lines`` gives each outcome its sentence and what each epic finished;
``ahead`` the next two weeks; ``register`` the risks, issues and decisions apart;
``finish`` the executive summary, with the decisions the notes ask for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from app.programs import documents
from app.render.templates import day, pct
from app.reports import schemas as out

AHEAD = timedelta(days=14)
LISTED_RISKS = 5
_PLURAL = re.compile(r"\b(\d+) ([a-z]+)\(s\)")
_NOTE_ASK = re.compile(
    r"^\s*(?:[-*•]\s+)?(decision(?: needed)?|ask|help(?: needed)?)"
    r"(?: by (\d{4}-\d{2}-\d{2}))?\s*[:—–-]\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SINGULAR = {"stories": "story", "tasks": "task", "bugs": "bug", "subtasks": "subtask"}


def plural(text: str) -> str:
    """Rule output's "1 item(s)" and "3 item(s)" as "1 item" and "3 items"."""
    return _PLURAL.sub(lambda m: f"{m[1]} {m[2]}{'' if m[1] == '1' else 's'}", text)


def counted(n: int, noun: str) -> str:
    """``4 stories``, ``1 story``: ``noun`` is plural."""
    word = (
        (_SINGULAR.get(noun, noun.removesuffix("s")) if noun.endswith("s") else noun)
        if n == 1
        else noun
    )
    return f"{n} {word}"


def span(start: date, end: date) -> str:
    """``9–15 Nov``, ``26 Oct – 1 Nov``, ``28 Dec 2026 – 3 Jan 2027``."""
    if start.year != end.year:
        return f"{start:%-d %b %Y} – {end:%-d %b %Y}"
    if start.month != end.month:
        return f"{start:%-d %b} – {end:%-d %b}"
    return f"{start.day}–{end:%-d %b}" if start != end else f"{end:%-d %b}"


def covers(
    week: str, start: date, end: date, issued_on: date | None, *, preview: bool = False
) -> out.Covers:
    """The days a report covers next to its week: "2026-W47, 9–15 Nov, issued Mon 16 Nov"."""
    if preview:
        text = f"{week} to date, {span(start, end)}, a preview"
    elif issued_on is not None:
        text = f"{week}, {span(start, end)}, issued {issued_on:%a %-d %b}"
    else:
        text = f"{week}, {span(start, end)}"
    return out.Covers(start=start, end=end, issued_on=issued_on, text=text)


def _forecast_words(figures: Mapping[str, Any]) -> str:
    forecast = figures.get("forecast") or {}
    chance, target, p85 = (
        forecast.get("probability_on_time"),
        figures.get("target"),
        forecast.get("p85"),
    )
    safe = f" (safe date {day(p85)})" if p85 else ""
    if chance is None or target is None:
        return "no forecast to judge yet"
    if chance < 0.05:
        return f"cannot make its target of {day(target)}{safe}"
    return f"{pct(chance)} likely to finish by its target of {day(target)}{safe}"


def reason_words(figures: Mapping[str, Any], outcomes: Sequence[Mapping[str, Any]] = ()) -> str:
    """The one reason behind a colour that matters most, in words (the worst comes first)."""
    reasons = (figures.get("rag") or {}).get("reasons") or []
    if not reasons:
        return "nothing to judge yet"
    first = reasons[0]
    rule = first.get("rule")
    if rule == "probability_on_time":
        return _forecast_words(figures)
    if rule == "outcome":
        for o in outcomes:
            color = (o.get("rag") or {}).get("color", "")
            if first.get("detail") == f"outcome {o.get('name')} is {color}":
                return f"{o.get('name')} is {color}: {reason_words(o)}"
    return plural(str(first.get("detail", "")))


def _shift(after: date | None, before: date | None) -> str:
    if after is None or before is None or after == before:
        return ""
    days = (after - before).days
    return f", {abs(days)} days {'later' if days > 0 else 'earlier'} than a week before"


def _date_words(row: out.OutcomeRow) -> str:
    if row.p85 is None:
        return "no date forecast yet"
    target = f" against its target of {day(row.target)}" if row.target else ""
    return f"safe date (P85) {day(row.p85)}{target}{_shift(row.p85, row.previous_p85)}"


def _epic_lines(
    tallies: Sequence[documents.EpicTally], finished: set[str], outcome_name: str
) -> list[out.EpicLine]:
    found = []
    for tally in tallies:
        done = sum(1 for f in tally.recent if f.key in finished)
        if not done:
            continue
        name = tally.epic.title if tally.epic else f"{outcome_name} (under no epic)"
        found.append(
            out.EpicLine(
                name=name,
                key=tally.epic.key if tally.epic else None,
                url=tally.epic.url if tally.epic else None,
                done=done,
                left=tally.left,
                noun=tally.noun,
                text=f"{name}: {counted(done, tally.noun)} done, {tally.left} left",
            )
        )
    return sorted(found, key=lambda e: (-e.done, e.name))


def lines(
    rows: Sequence[out.OutcomeRow],
    status: Mapping[str, Any],
    outlook: documents.Outlook | None,
    changes: documents.Changes | None,
) -> list[out.OutcomeLine]:
    """Each outcome in words, with what each of its epics finished in the period."""
    by_key = {o["key"]: o for o in status.get("outcomes", [])}
    tallies = outlook.epics if outlook else []
    found = []
    for row in rows:
        document = by_key.get(row.key, {})
        finished = {c.key for c in (changes.completed if changes else []) if row.key in c.outcomes}
        progress = (document.get("progress") or {}).get("text") or (
            f"{row.done:g} of {row.total:g} done ({row.percent:.0f} %)"
        )
        moved = ((document.get("forecast") or {}).get("movement") or {}).get("text")
        moved = plural(moved) if moved else None
        found.append(
            out.OutcomeLine(
                key=row.key,
                name=row.name,
                rag=row.rag,
                previous_rag=row.previous_rag,
                reason=reason_words(document) if document else "not recorded in this snapshot",
                progress=progress,
                date=_date_words(row),
                moved=moved,
                finished=len(finished),
                accomplishments=_epic_lines(
                    [t for t in tallies if t.outcome == row.key], finished, row.name
                ),
            )
        )
    return found


def _blocked(line: documents.Blocked) -> out.BlockedLine:
    if line.blockers:
        names = ", ".join(f"{b.key} ({b.assignee or 'unassigned'})" for b in line.blockers[:3])
        by = f"waits on {names}"
    else:
        by = f"its status is {line.status or 'blocked'}; ask {line.assignee or 'its team'}"
    return out.BlockedLine(
        key=line.key,
        title=line.title,
        url=line.url,
        outcome=line.outcome,
        assignee=line.assignee,
        by=by,
        blockers=[
            out.Blocker(key=b.key, title=b.title, url=b.url, assignee=b.assignee)
            for b in line.blockers
        ],
    )


def ahead(
    outlook: documents.Outlook | None,
    milestones: Sequence[documents.Milestone],
    end: date,
) -> out.NextWeeks:
    """The two weeks after the period: due, milestones, blocked and by whom, critical work
    not started."""
    until = end + AHEAD
    if outlook is None:
        return out.NextWeeks(until=until, recorded=False)
    return out.NextWeeks(
        until=until,
        due=[w for w in outlook.due if w.due_on and end < w.due_on <= until],
        overdue=[w for w in outlook.due if w.due_on and w.due_on <= end],
        milestones=[m for m in milestones if m.due_on and (m.overdue or m.due_on <= until)],
        blocked=[_blocked(b) for b in outlook.blocked],
        not_started=list(outlook.not_started),
    )


def _risk_line(risk: documents.Risk, end: date) -> out.RiskLine:
    return out.RiskLine(
        id=risk.id,
        title=plural(risk.title),
        severity=risk.severity,
        roam=risk.roam,
        owner=risk.owner,
        owner_basis=risk.owner_basis,
        mitigation=risk.mitigation,
        suggested_mitigation=risk.suggested_mitigation,
        age_days=max(0, (end - risk.opened_at.date()).days),
        items=risk.items,
    )


def register(open_risks: Sequence[documents.Risk], count: int, end: date) -> out.RiskRegister:
    """The open risks worst first, the issues (risks that happened) apart, and the
    decisions the register asks for, soonest needed first."""
    decisions = [r for r in open_risks if r.decision]
    rest = [r for r in open_risks if not r.decision]
    return out.RiskRegister(
        risks=[_risk_line(r, end) for r in rest if not r.issue][:LISTED_RISKS],
        issues=[_risk_line(r, end) for r in rest if r.issue][:LISTED_RISKS],
        decisions=sorted(
            (
                out.Decision(text=r.title, needed_by=r.due_on, owner=r.owner, source="register")
                for r in decisions
            ),
            key=lambda d: (d.needed_by or date.max, d.text),
        ),
        open=count,
    )


def _before(history: Sequence[documents.WeekCount]) -> list[float]:
    """What was finished in each of the four windows before the latest."""
    return [float(w.completed) for w in history[-5:-1]]


def quiet(finished: int | None, history: Sequence[documents.WeekCount], unit: str) -> str | None:
    """A stalled or quiet period, said plainly: "Nothing was finished this week; the four
    weeks before averaged 6 items.\""""
    if finished is None:
        return None
    before = _before(history)
    average = sum(before) / len(before) if before else None
    if finished == 0:
        tail = f"; the {len(before)} weeks before averaged {average:.0f} {unit}" if average else ""
        return f"Nothing was finished this week{tail}."
    if average and finished < average / 2:
        return (
            f"A quiet week: {counted(finished, unit)} finished, against an average of "
            f"{average:.0f} over the {len(before)} weeks before."
        )
    return None


def decisions_in(notes: str | None) -> list[out.Decision]:
    """The decisions and asks a program manager wrote in the notes, one per line:
    "Decision: …", "Decision needed by 2026-12-04: …", "Ask: …", "Help needed: …"."""
    found = []
    for match in _NOTE_ASK.finditer(notes or ""):
        needed = date.fromisoformat(match[2]) if match[2] else None
        found.append(out.Decision(text=match[3], needed_by=needed, source="notes"))
    return found


def _pace(report: out.WeeklyReport) -> str:
    c, s = report.changes, report.standing
    unit = "items" if s.progress.basis == "count" else "points"
    done = f"{s.progress.done:g} of {s.progress.total:g} {unit} done ({s.progress.percent:.0f} %)"
    if c is None:
        return f"{done[0].upper()}{done[1:]}."
    finished = len(c.completed)
    before = _before(report.history)
    average = (
        f"; the {len(before)} weeks before averaged {sum(before) / len(before):.0f}"
        if before
        else ""
    )
    if finished == 0:
        return f"Nothing was finished this week{average}; {done}."
    return f"{counted(finished, 'items')} finished this week{average}; {done}."


def _date(report: out.WeeklyReport) -> str:
    movement = report.movement
    s = report.standing
    f, before = s.forecast, s.previous_forecast
    if f.basis == "done":
        return "All work is done."
    if f.p85 is None:
        dated = [o for o in report.outcomes if o.p85 is not None]
        if not dated:
            return (
                "No date can be forecast yet: too little work has been finished to measure a pace."
            )
        known = "; ".join(f"{o.name}'s safe date (P85) is {day(o.p85)}" for o in dated[:3])
        return f"No date can be forecast for the whole program yet; {known}."
    target = ""
    if s.target is not None:
        late = (f.p85 - s.target).days
        target = (
            f", {late} days after the target of {day(s.target)}"
            if late > 0
            else f", within the target of {day(s.target)}"
        )
    why = f" {plural(movement)}." if movement else ""
    moved = "" if movement else _shift(f.p85, before.p85 if before else None)
    return f"The safe date (P85) is {day(f.p85)}{target}{moved}.{why}"


def _top_risk(report: out.WeeklyReport) -> str:
    r = report.risk_register
    if r is None:
        return ""
    worst = sorted(
        [*r.issues, *r.risks],
        key=lambda x: {"critical": 0, "high": 1, "medium": 2, "low": 3}.get(x.severity, 4),
    )
    if not worst:
        return "No risk is open."
    top = worst[0]
    owner = (
        f", owned by {top.owner}" + (f" ({top.owner_basis})" if top.owner_basis else "")
        if top.owner
        else ", with no owner yet"
    )
    return f"Top risk: {top.title} ({top.severity}{owner})."


def _ask(decisions: Sequence[out.Decision]) -> str:
    if not decisions:
        return "No decision or help is asked for this week."
    first = decisions[0]
    by = f" by {day(first.needed_by)}" if first.needed_by else ""
    owner = f" ({first.owner})" if first.owner else ""
    more = f" — and {len(decisions) - 1} more below" if len(decisions) > 1 else ""
    return f"Decision needed{by}: {first.text.rstrip('.')}{owner}{more}."


def finish(report: out.WeeklyReport) -> out.WeeklyReport:
    """The report with its executive summary and every decision asked for, the notes'
    first; ``report`` is changed in place and returned."""
    if report.risk_register is not None:
        kept = [d for d in report.risk_register.decisions if d.source == "register"]
        report.risk_register.decisions = [*decisions_in(report.notes), *kept]
        decisions = report.risk_register.decisions
    else:
        decisions = decisions_in(report.notes)
    color = report.rag.color.upper()
    was = (
        f", was {report.rag.previous.upper()} a week before"
        if report.rag.previous and report.rag.previous != report.rag.color
        else ""
    )
    reason = report.headline or "nothing to judge yet"
    sentences = [
        f"{report.program.name} is {color}{was}: {reason}.",
        _pace(report),
        _date(report),
        _top_risk(report),
        _ask(decisions),
    ]
    report.summary = [s for s in sentences if s]
    return report
