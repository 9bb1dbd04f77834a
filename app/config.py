"""The YAML configuration: sources, programs and server access, with line-accurate errors.

The file is parsed into typed models; every problem is reported at once with the file, the
line and a plain sentence, so an operator fixes a broken file in one pass. Secrets are
never in the file: it names environment variables, which are resolved (and checked) here.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from app.cron import crontab_trigger
from rollup.model import ForecastOptions, RagPolicy, RiskThresholds
from rollup.people import normalise

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str) -> timedelta:
    """Parse ``15m``, ``1h30m``, ``2d`` or ``45s`` into a positive timedelta."""
    match = _DURATION.match(text.strip()) if text else None
    if not match or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration like 15m, 1h30m or 1d")
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Duration = Annotated[timedelta, Field(description="15m, 1h30m, 1d")]


class TokenConfig(_Model):
    name: str
    role: Literal["viewer", "admin"]
    token_env: str


class ServerConfig(_Model):
    auth: Literal["tokens", "none"] = "tokens"
    tokens: tuple[TokenConfig, ...] = ()


class SourceAuthConfig(_Model):
    email_env: str | None = None
    """Jira Cloud basic auth: the account's email. Absent means a Bearer token."""
    token_env: str


class WebhookConfig(_Model):
    secret_env: str | None = None
    """Jira: the variable holding the secret admin webhooks sign deliveries with."""
    allow_unsigned: bool = False
    """Accept unsigned deliveries as hints that trigger a re-fetch (never as data)."""
    silent_after: Duration | None = None
    """Flag the source when no delivery (or Asana heartbeat) came for this long (default:
    9h for Asana, whose heartbeats come every 8h; 1d for Jira)."""
    events: tuple[str, ...] = (
        "jira:issue_created",
        "jira:issue_updated",
        "jira:issue_deleted",
        "issuelink_created",
        "issuelink_deleted",
    )
    """Jira: the events a registration asks for."""

    @field_validator("silent_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value


class _SourceBase(_Model):
    name: Annotated[str, Field(pattern=SLUG)]
    auth: SourceAuthConfig
    webhook: WebhookConfig | None = None
    projects: tuple[str, ...] = ()
    estimate_field: str | None = None
    sync_every: Duration = timedelta(minutes=15)
    census_every: Duration = timedelta(days=1)
    overlap: Duration = timedelta(minutes=5)
    timeout_seconds: float = Field(default=30.0, gt=0)
    verify_tls: bool = True
    max_in_flight: int = Field(default=8, ge=1, le=100)
    requests_per_second: float | None = Field(default=None, gt=0)
    cross_link_direction: Literal["blocked_by", "blocks", "ignore"] = "blocked_by"
    """How a mention of another tracker's item whose wording gives no direction is read:
    the mentioned item blocks this one, this one blocks it, or no link at all."""

    @field_validator("sync_every", "census_every", "overlap", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value


class JiraSourceConfig(_SourceBase):
    kind: Literal["jira"]
    url: str
    deployment: Literal["auto", "cloud", "datacenter"] = "auto"
    dependency_link_types: tuple[str, ...] = ("Blocks",)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class AsanaSourceConfig(_SourceBase):
    kind: Literal["asana"]
    url: str = "https://app.asana.com/api/1.0"
    workspace: str
    portfolio: str | None = None
    team: str | None = None
    sections: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)
    reference_field: str | None = None
    """Name or gid of a custom field whose text names other trackers' items (Jira keys, URLs)."""
    plan: Literal["free", "paid"] = "paid"
    """The workspace's plan, which sets Asana's quota: 150 requests/minute free, 1,500 paid."""
    max_in_flight: int = Field(default=20, ge=1, le=50)

    def request_rate(self) -> float:
        """Requests per second to pace at: the configured rate, else 95 % of the plan's quota.

        Asana counts rejected requests against the quota too, so pacing just under it costs
        less than bouncing off it.
        """
        if self.requests_per_second is not None:
            return self.requests_per_second
        return (150 if self.plan == "free" else 1_500) / 60 * 0.95

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)

    @field_validator("sections")
    @classmethod
    def _categories(cls, value: Mapping[str, tuple[str, ...]]) -> Mapping[str, tuple[str, ...]]:
        unknown = set(value) - {"todo", "in_progress", "done"}
        if unknown:
            raise ValueError(
                f"section categories must be todo, in_progress or done, not {sorted(unknown)}"
            )
        return value


SourceConfig = Annotated[JiraSourceConfig | AsanaSourceConfig, Field(discriminator="kind")]


class SelectorConfig(_Model):
    """Which items of one source feed an outcome; every listed criterion must hold."""

    source: str
    projects: tuple[str, ...] = ()
    epics: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    issue_types: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()
    custom_fields: Mapping[str, tuple[str, ...]] = Field(default_factory=dict)


class OutcomeConfig(_Model):
    key: Annotated[str, Field(pattern=SLUG)]
    name: str
    target: date | None = None
    weight: float = Field(default=1.0, gt=0)
    progress_basis: Literal["count", "estimate"] | None = None
    match: tuple[SelectorConfig, ...] = ()


_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


class SlackDeliveryConfig(_Model):
    """A Slack incoming webhook; its URL is a secret, so the file names its variable."""

    webhook_url_env: str


class ConfluenceAuthConfig(_Model):
    email_env: str | None = None
    """Confluence Cloud basic auth: the account's email. Absent means a Bearer token
    (a Data Center personal access token)."""
    token_env: str


class ConfluenceDeliveryConfig(_Model):
    """Pages under a parent page of a Confluence space, written in storage format."""

    url: str
    """The site's base URL with its context path: ``https://acme.atlassian.net/wiki``
    for Cloud, ``https://confluence.acme.com`` for Data Center."""
    space: str
    parent_page: str | None = None
    """The id of the page the reports go under (the space's top level when absent)."""
    page: Literal["weekly", "living"] = "weekly"
    """``weekly``: one page per ISO week; ``living``: one page rewritten every week."""
    title: str | None = None
    """The living page's title, or the weekly pages' prefix (default: the program name)."""
    auth: ConfluenceAuthConfig
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value)


class EmailDeliveryConfig(_Model):
    """E-mail over SMTP: the HTML page with a plain-text alternative."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` upgrades a plain connection (port 587), ``tls`` starts encrypted
    (port 465), ``none`` sends in the clear (a relay on a trusted network only)."""
    username_env: str | None = None
    password_env: str | None = None
    sender: str
    recipients: tuple[str, ...] = Field(min_length=1)
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _address(value)

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_address(v) for v in value)

    @model_validator(mode="after")
    def _credentials(self) -> EmailDeliveryConfig:
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env go together")
        return self


def _address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an e-mail address like pm@example.com")
    return value


class DeliveryConfig(_Model):
    """Where a program's weekly report goes besides its page; each channel is optional."""

    slack: SlackDeliveryConfig | None = None
    confluence: ConfluenceDeliveryConfig | None = None
    email: EmailDeliveryConfig | None = None


class ReportConfig(_Model):
    cron: str = "0 8 * * MON"
    """When the weekly report is written, in the program's time zone (weekdays as in
    crontab: 0 or 7 is Sunday, or names such as MON)."""
    review: bool = False
    """Hold delivery until the program manager has written notes or pressed send."""
    deliver: DeliveryConfig = DeliveryConfig()

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            crontab_trigger(value, zoneinfo.ZoneInfo("UTC"))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid cron expression ({exc})") from exc
        return value


Escalation = Literal["amber", "red", "off"]
"""The colour a RAG rule forces at least when it fires, or ``off``."""

_RAG = RagPolicy()
_FORECAST = ForecastOptions()
_RISKS = RiskThresholds()


class RagConfig(_Model):
    """Overrides of the RAG policy; every key defaults to the built-in rule set."""

    green_at: float = Field(default=_RAG.green_at, ge=0, le=1)
    amber_at: float = Field(default=_RAG.amber_at, ge=0, le=1)
    late_dependency: Escalation = "red"
    overdue_milestone: Escalation = "red"
    stale_work: Escalation = "amber"
    stale_share: float = Field(default=_RAG.stale_share, gt=0, le=1)
    scope_growth: Escalation = "amber"
    data_quality: Escalation = "amber"
    data_quality_below: float = Field(default=_RAG.data_quality_below, ge=0, le=1)
    dependency_cycle: Escalation = "amber"

    @model_validator(mode="after")
    def _ordered(self) -> RagConfig:
        if self.amber_at > self.green_at:
            raise ValueError(
                f"amber_at ({self.amber_at}) must not be above green_at ({self.green_at})"
            )
        return self


class ForecastConfig(_Model):
    history_weeks: int = Field(default=_FORECAST.history_weeks, ge=2, le=104)
    trials: int = Field(default=_FORECAST.trials, ge=100, le=100_000)
    min_history_weeks: int = Field(default=_FORECAST.min_history_weeks, ge=1, le=104)
    min_completed: int = Field(default=_FORECAST.min_completed, ge=1)
    scope_growth: bool = _FORECAST.scope_growth
    seed: int = Field(default=0, ge=0)
    """Seeds the trials: the same data and seed always give the same forecast."""


class RiskConfig(_Model):
    stale_after_days: int = Field(default=_RISKS.stale_after_days, ge=1)
    scope_creep_percent: float = Field(default=_RISKS.scope_creep * 100, gt=0)
    slip_days: int = Field(default=_RISKS.slip_days, ge=1)
    due_soon_days: int = Field(default=_RISKS.due_soon_days, ge=0)
    critical_index: float = Field(default=_RISKS.critical_index, gt=0, le=1)
    blocked_statuses: tuple[str, ...] = _RISKS.blocked_statuses


class ProgramConfig(_Model):
    key: Annotated[str, Field(pattern=SLUG)]
    name: str
    timezone: str = "UTC"
    progress_basis: Literal["count", "estimate"] = "count"
    baseline: date | None = None
    report: ReportConfig = ReportConfig()
    outcomes: tuple[OutcomeConfig, ...] = ()
    rag: RagConfig = RagConfig()
    forecast: ForecastConfig = ForecastConfig()
    risks: RiskConfig = RiskConfig()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not a known time zone") from exc
        return value


class PersonConfig(_Model):
    """One person as every tracker may name them: the emails and names that are theirs.

    Trackers' own users are matched by email or display name already (accents, case and
    spacing aside); this is for the rest: a Jira account name, a nickname, an old address.
    """

    name: str = Field(min_length=1, max_length=256)
    emails: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    """Other display names (or account names) trackers show for this person."""


class TeamConfig(_Model):
    key: Annotated[str, Field(pattern=SLUG)]
    name: str
    members: tuple[str, ...] = ()
    """People by name, email or alias, as in ``people`` or as a tracker shows them."""
    wip_limit: int | None = Field(default=None, ge=1)
    """Work in progress per member above which a member is over-allocated (default:
    ``resources.wip_limit``)."""


class ResourcesConfig(_Model):
    wip_limit: int = Field(default=3, ge=1)
    """Items in progress per person above which the person is over-allocated."""
    throughput_weeks: int = Field(default=6, ge=1, le=52)
    """Weeks of throughput shown per person and team."""


class ThroughlineConfig(_Model):
    server: ServerConfig = ServerConfig()
    sources: tuple[SourceConfig, ...] = ()
    programs: tuple[ProgramConfig, ...] = ()
    people: tuple[PersonConfig, ...] = ()
    teams: tuple[TeamConfig, ...] = ()
    resources: ResourcesConfig = ResourcesConfig()

    def source(self, name: str) -> JiraSourceConfig | AsanaSourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)

    def program(self, key: str) -> ProgramConfig | None:
        return next((p for p in self.programs if p.key == key), None)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The configuration file cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


YamlPath = tuple[str | int, ...]
"""Where a value sits in the file: keys and list indexes from the top."""


def load_config(path: Path, *, environ: Mapping[str, str] | None = None) -> ThroughlineConfig:
    """Read, validate and cross-check a configuration file, raising ``ConfigError``.

    With ``environ`` given, every secret the file names must be set there (as at start-up);
    without it, secrets are not checked.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problem = ConfigProblem(name, None, f"cannot read the file: {exc.strerror}")
        raise ConfigError([problem]) from None
    return parse_config(text, name=name, environ=environ)


def parse_config(
    text: str, *, name: str = "<config>", environ: Mapping[str, str] | None = None
) -> ThroughlineConfig:
    """Parse configuration text; see ``load_config``."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([ConfigProblem(name, line, f"not valid YAML: {problem}")]) from None
    lines: dict[YamlPath, int] = {}
    data = _to_python(node, (), lines, name) if node is not None else {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(name, 1, "the file must be a mapping of sections")])
    problems = [
        ConfigProblem(name, _line_for(loc, lines), message) for loc, message in _cross_check(data)
    ]
    try:
        config = ThroughlineConfig.model_validate(data)
    except ValidationError as exc:
        problems = _problems_from(exc, name, lines) + problems
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0)) from None
    if config.server.auth == "tokens" and not config.server.tokens:
        problems.append(
            ConfigProblem(
                name,
                _line_for(("server", "auth"), lines),
                "server.auth is 'tokens' but no tokens are listed "
                "(add server.tokens, or set auth: none on a trusted network)",
            )
        )
    if environ is not None:
        problems += [
            ConfigProblem(name, _line_for(loc, lines), message)
            for loc, message in _secret_problems(config, environ)
        ]
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))
    return config


def _to_python(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int], name: str) -> Any:
    """Build plain data from a YAML node, remembering the line of every key and item."""
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if key in result:
                line = key_node.start_mark.line + 1
                raise ConfigError([ConfigProblem(name, line, f"key {key!r} appears twice")])
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _to_python(value_node, (*path, key), lines, name)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(child, (*path, i), lines, name) for i, child in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_object(node, deep=True)


def _line_for(loc: Iterable[str | int], lines: Mapping[YamlPath, int]) -> int | None:
    path = tuple(loc)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return lines.get(())


def _problems_from(
    exc: ValidationError, name: str, lines: Mapping[YamlPath, int]
) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        # Tagged unions add the tag ("jira") to the location; it is not a key in the file.
        loc = [p for p in error["loc"] if p not in ("jira", "asana")]
        where = ".".join(str(p) for p in loc) or "the file"
        if error["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r} in {'.'.join(map(str, loc[:-1])) or 'the file'}"
        elif error["type"] == "missing":
            message = f"{where} is required"
        else:
            message = f"{where}: {error['msg'].removeprefix('Value error, ')}"
        problems.append(ConfigProblem(name, _line_for(loc, lines), message))
    return problems


def _cross_check(data: Mapping[str, Any]) -> list[tuple[YamlPath, str]]:
    """Rules that span sections, checked on the raw data so they are reported even when
    other parts of the file fail validation."""
    found: list[tuple[YamlPath, str]] = []

    def entries(value: object) -> list[tuple[int, Mapping[str, Any]]]:
        items = value if isinstance(value, list) else []
        return [(i, e) for i, e in enumerate(items) if isinstance(e, dict)]

    sources = entries(data.get("sources"))
    programs = entries(data.get("programs"))
    source_names = {e.get("name") for _, e in sources}
    for section, kind, field_name, rows in (
        ("sources", "source", "name", sources),
        ("programs", "program", "key", programs),
    ):
        seen: set[object] = set()
        for index, entry in rows:
            value = entry.get(field_name)
            if value in seen:
                found.append(((section, index, field_name), f"duplicate {kind} {value!r}"))
            seen.add(value)
    found += _people_problems(entries(data.get("people")), entries(data.get("teams")))
    for p_index, program in programs:
        seen_outcomes: set[object] = set()
        for o_index, outcome in entries(program.get("outcomes")):
            loc: YamlPath = ("programs", p_index, "outcomes", o_index)
            if outcome.get("key") in seen_outcomes:
                found.append(
                    (
                        (*loc, "key"),
                        f"duplicate outcome {outcome.get('key')!r} in program "
                        f"{program.get('key')!r}",
                    )
                )
            seen_outcomes.add(outcome.get("key"))
            for m_index, selector in entries(outcome.get("match")):
                name = selector.get("source")
                if name not in source_names:
                    known = ", ".join(sorted(str(n) for n in source_names)) or "none"
                    found.append(
                        (
                            (*loc, "match", m_index, "source"),
                            f"outcome {outcome.get('key')!r} selects from unknown source "
                            f"{name!r} (known: {known})",
                        )
                    )
    return found


def _people_problems(
    people: list[tuple[int, Mapping[str, Any]]], teams: list[tuple[int, Mapping[str, Any]]]
) -> list[tuple[YamlPath, str]]:
    """A name or email may stand for one person only, a person may be in one team only:
    otherwise whose work is whose (and which team's pace a share runs at) is ambiguous."""
    found: list[tuple[YamlPath, str]] = []
    owner: dict[str, str] = {}
    for index, person in people:
        name = normalise(str(person.get("name", "")))
        if name in owner:
            message = (
                f"duplicate person {person.get('name')!r} "
                "(names compare without accents, case or spacing)"
                if owner[name] == name
                else f"{person.get('name')!r} already stands for another person"
            )
            found.append((("people", index, "name"), message))
            continue
        for field_name in ("name", "emails", "aliases"):
            raw = person.get(field_name)
            values = [raw] if field_name == "name" else raw if isinstance(raw, list) else []
            for position, value in enumerate(values):
                token = normalise(str(value))
                loc: YamlPath = ("people", index, field_name)
                if field_name != "name":
                    loc = (*loc, position)
                if token in owner and owner[token] != name:
                    found.append((loc, f"{value!r} already stands for another person"))
                owner.setdefault(token, name)
    team_of: dict[str, str] = {}
    seen_teams: set[object] = set()
    for index, team in teams:
        if team.get("key") in seen_teams:
            found.append((("teams", index, "key"), f"duplicate team {team.get('key')!r}"))
        seen_teams.add(team.get("key"))
        members = team.get("members")
        for position, member in enumerate(members if isinstance(members, list) else []):
            token = normalise(str(member))
            who = owner.get(token, token)
            if who in team_of and team_of[who] != team.get("key"):
                found.append(
                    (
                        ("teams", index, "members", position),
                        f"{member!r} is already in team {team_of[who]!r} "
                        "(a person belongs to one team)",
                    )
                )
            team_of.setdefault(who, str(team.get("key")))
    return found


def _secret_problems(
    config: ThroughlineConfig, environ: Mapping[str, str]
) -> list[tuple[YamlPath, str]]:
    found: list[tuple[YamlPath, str]] = []
    for loc, env_name in secret_references(config):
        if not environ.get(env_name):
            found.append((loc, f"environment variable {env_name} is not set"))
    return found


def secret_references(config: ThroughlineConfig) -> list[tuple[tuple[str | int, ...], str]]:
    """Every environment variable the configuration reads a secret from, with its location."""
    refs: list[tuple[tuple[str | int, ...], str]] = []
    if config.server.auth == "tokens":
        for index, token in enumerate(config.server.tokens):
            refs.append((("server", "tokens", index, "token_env"), token.token_env))
    for index, source in enumerate(config.sources):
        refs.append((("sources", index, "auth", "token_env"), source.auth.token_env))
        if source.auth.email_env:
            refs.append((("sources", index, "auth", "email_env"), source.auth.email_env))
        if source.webhook and source.webhook.secret_env:
            refs.append((("sources", index, "webhook", "secret_env"), source.webhook.secret_env))
    for index, program in enumerate(config.programs):
        refs += _delivery_secrets(("programs", index, "report", "deliver"), program.report.deliver)
    return refs


def _delivery_secrets(
    loc: tuple[str | int, ...], deliver: DeliveryConfig
) -> list[tuple[tuple[str | int, ...], str]]:
    refs: list[tuple[tuple[str | int, ...], str]] = []
    if deliver.slack:
        refs.append(((*loc, "slack", "webhook_url_env"), deliver.slack.webhook_url_env))
    if deliver.confluence:
        auth = deliver.confluence.auth
        refs.append(((*loc, "confluence", "auth", "token_env"), auth.token_env))
        if auth.email_env:
            refs.append(((*loc, "confluence", "auth", "email_env"), auth.email_env))
    if deliver.email:
        for name in ("username_env", "password_env"):
            env = getattr(deliver.email, name)
            if env:
                refs.append(((*loc, "email", name), env))
    return refs


def resolve_secret(env_name: str, environ: Mapping[str, str] | None = None) -> SecretStr:
    """The secret held by an environment variable; raises ``KeyError`` naming the variable."""
    value = (os.environ if environ is None else environ).get(env_name)
    if not value:
        raise KeyError(f"environment variable {env_name} is not set")
    return SecretStr(value)
