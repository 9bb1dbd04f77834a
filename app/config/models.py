"""The configuration's typed models: sources, programs, people, teams and server access.

Every field is validated here; ``app.config.loading`` reads the YAML file into them and
reports problems with file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from app.config.fields import CronExpression, TimeZoneName
from app.config.goals import GoalConfig, OutcomeDependencyConfig, PortfolioConfig
from rollup.model import ForecastOptions, RagPolicy, RiskThresholds
from vocabulary import StatusCategory

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
    groups: tuple[str, ...] = ()
    """Groups the token's holder belongs to, for programs restricted by ``visible_to``."""


class OidcConfig(_Model):
    """Sign-in through an OpenID Connect provider (authorization code flow with PKCE)."""

    issuer: str
    """The provider's issuer URL; its ``/.well-known/openid-configuration`` is read."""
    client_id: str = Field(min_length=1)
    client_secret_env: str
    """The variable holding the client secret."""
    name: str = "single sign-on"
    """What the sign-in button calls the provider."""
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    groups_claim: str = "groups"
    """The ID token claim listing the person's groups or roles (a dotted path such as
    ``realm_access.roles`` reaches into an object)."""
    admin_groups: tuple[str, ...] = ()
    """Groups whose members are admins."""
    viewer_groups: tuple[str, ...] = ()
    """Groups whose members may read; empty: everyone the provider signs in."""

    @field_validator("issuer")
    @classmethod
    def _issuer(cls, value: str) -> str:
        return _http_url(value)

    @model_validator(mode="after")
    def _openid(self) -> OidcConfig:
        if "openid" not in self.scopes:
            raise ValueError("scopes must include openid")
        return self


class ServerConfig(_Model):
    auth: Literal["tokens", "none"] = "tokens"
    tokens: tuple[TokenConfig, ...] = ()
    oidc: OidcConfig | None = None
    """People sign in through this provider (beside pasting a token)."""


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
    max_in_flight: int = Field(default=16, ge=1, le=100)
    """At 100 ms a request, 16 at once reach 160 requests/s: a site's 100 requests/s with
    room for its own answering time (10 would be the bare minimum)."""
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
    full_listing_every: Duration = timedelta(days=7)
    """How often every task and subtask is listed in full: Asana's events are at-most-once
    and its sync tokens die within a day, so a listing repairs what an event missed."""
    status_history: bool = True
    """Read the stories of changed tasks for their status history (section moves and
    completion), which gives Asana work cycle times: a request per changed task."""

    @field_validator("full_listing_every", mode="before")
    @classmethod
    def _listing_every(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

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
        unknown = set(value) - set(StatusCategory)
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
    owner: str | None = Field(default=None, min_length=1, max_length=256)
    """Who answers for the outcome: the owner of its risks no single item causes (a
    stall, a slipping forecast, scope creep) until a program manager names another."""
    depends_on: tuple[OutcomeDependencyConfig, ...] = ()
    """Other programs' outcomes this one cannot finish without."""


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
    api: Literal["auto", "v2", "v1"] = "auto"
    """``auto``: the v2 pages API, and the v1 content API where v2 is not served (Data
    Center); ``v2`` or ``v1`` to use only one."""
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
    cron: CronExpression = "0 8 * * MON"
    """When the weekly report is written, in the program's time zone (weekdays as in
    crontab: 0 or 7 is Sunday, or names such as MON)."""
    review: bool = False
    """Hold delivery until the program manager has written notes or pressed send."""
    deliver: DeliveryConfig = DeliveryConfig()


class WebhookOutConfig(_Model):
    """A generic webhook: alerts are POSTed as JSON, signed with HMAC-SHA256."""

    url_env: str
    """The variable holding the receiver's URL (a URL can carry a token, so it is a secret)."""
    secret_env: str
    """The variable holding the shared secret the ``X-Throughline-Signature`` is made with."""


class AlertDeliveryConfig(_Model):
    slack: SlackDeliveryConfig | None = None
    email: EmailDeliveryConfig | None = None
    webhook: WebhookOutConfig | None = None


_QUIET = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class AlertsConfig(_Model):
    """When a program's people hear about an exception at once, and where."""

    enabled: bool = True
    slip_days: int = Field(default=7, ge=1)
    """A forecast (P85) later by more than this many days than when last told is an alert."""
    risk_score: int = Field(default=10, ge=1, le=25)
    """A derived risk opening with probability × impact at least this (10: high) is an alert."""
    quiet_hours: str | None = None
    """``22:00-07:00`` in the program's time zone: alerts wait until it ends."""
    digest: CronExpression | None = None
    """A cron expression (program's zone): alerts are gathered and sent together then,
    instead of at once."""
    repeat_after: Duration = timedelta(days=1)
    """The same alert again within this long is kept as a duplicate, not sent."""
    deliver: AlertDeliveryConfig | None = None
    """Default: the weekly report's Slack and e-mail channels."""

    @field_validator("repeat_after", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return parse_duration(value) if isinstance(value, str) else value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: str | None) -> str | None:
        if value is not None and not _QUIET.match(value):
            raise ValueError(f"{value!r} is not a span of hours like 22:00-07:00")
        return value


class DigestConfig(_Model):
    """The weekly portfolio digest: every program on one page, for the person above the
    program managers, on its own schedule."""

    cron: CronExpression = "0 9 * * MON"
    timezone: TimeZoneName = "UTC"
    title: str = "Portfolio"
    deliver: DeliveryConfig = DeliveryConfig()


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
    hysteresis: Literal["margin", "consecutive", "off"] = "margin"
    hysteresis_margin: float = Field(default=_RAG.hysteresis_margin, ge=0, le=0.5)
    stall: Escalation = "red"
    stall_weeks: int = Field(default=_RAG.stall_weeks, ge=1, le=104)
    slowdown: Escalation = "amber"
    slowdown_below: float = Field(default=_RAG.slowdown_below, gt=0, lt=1)
    recent_weeks: int = Field(default=_RAG.recent_weeks, ge=1, le=52)

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

    @model_validator(mode="after")
    def _possible(self) -> ForecastConfig:
        if self.min_history_weeks > self.history_weeks:
            raise ValueError(
                f"min_history_weeks ({self.min_history_weeks}) is more than history_weeks "
                f"({self.history_weeks}): no outcome could ever have the history to forecast"
            )
        return self


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
    owner: str | None = Field(default=None, min_length=1, max_length=256)
    """The program manager: owns the derived risks no item or outcome owner answers for."""
    timezone: TimeZoneName = "UTC"
    progress_basis: Literal["count", "estimate"] = "count"
    baseline: date | None = None
    report: ReportConfig = ReportConfig()
    outcomes: tuple[OutcomeConfig, ...] = ()
    rag: RagConfig = RagConfig()
    forecast: ForecastConfig = ForecastConfig()
    risks: RiskConfig = RiskConfig()
    alerts: AlertsConfig = AlertsConfig()
    visible_to: tuple[str, ...] = ()
    """Groups (or token names) that may see the program; empty: every viewer. Admins see
    every program."""

    @model_validator(mode="after")
    def _rules_can_fire(self) -> ProgramConfig:
        weeks = self.forecast.history_weeks
        if self.rag.stall != "off" and self.rag.stall_weeks > weeks:
            raise ValueError(
                f"rag.stall_weeks ({self.rag.stall_weeks}) is more than forecast.history_weeks "
                f"({weeks}): a stall could never be seen"
            )
        if self.rag.slowdown != "off" and self.rag.recent_weeks >= weeks:
            raise ValueError(
                f"rag.recent_weeks ({self.rag.recent_weeks}) must be less than "
                f"forecast.history_weeks ({weeks}) to compare the recent pace with the window's"
            )
        return self


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
    digest: DigestConfig | None = None
    goals: tuple[GoalConfig, ...] = ()
    portfolio: PortfolioConfig = PortfolioConfig()

    def source(self, name: str) -> JiraSourceConfig | AsanaSourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)

    def program(self, key: str) -> ProgramConfig | None:
        return next((p for p in self.programs if p.key == key), None)

    def goal(self, key: str) -> GoalConfig | None:
        return next((g for g in self.goals if g.key == key), None)


def _http_url(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value.rstrip("/")
