"""Process settings from the environment (``THROUGHLINE_*``).

Environment variables carry what differs between deployments of the same configuration:
the database URL, where the YAML configuration lives, server and scheduler options. The
configuration file (see ``app.config``) declares sources and programs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./throughline.db"


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


class ServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    public_url: str | None = None
    """Base URL trackers use to reach this server (webhook targets, links in reports)."""
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    """Other names this server is reached by (``host`` or ``host:port``, comma-separated in
    the environment), beside ``public_url``'s and the loopback names on ``port``. Requests
    naming another ``Host`` are refused, and a browser's state-changing request must come
    from one of them."""
    exports_per_client: int = Field(default=2, ge=1, le=100)
    """CSV exports one client address may stream at once; more are answered 429."""
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    """A connection whose request line and headers are not all there within this long is
    closed (a client sending them slowly holds nothing for longer)."""
    body_timeout_seconds: float = Field(default=20.0, gt=0, le=600)
    """A request body not all there within this long is answered 408 and its connection
    closed (webhook deliveries included)."""
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    """How long a sign-in to the pages lasts."""
    cache_seconds: float = Field(default=2.0, ge=0, le=60)
    """How long a rendered page or program status is served again before it is rebuilt
    (0: never). Edits made through this process clear it at once; other replicas catch
    up within this time."""
    reuse_answers: bool = True
    """Answer a program's status and pages from what was last built for the same reader
    and the same stored data, checked against the store on every request (false: build
    every answer afresh)."""
    failed_tokens_per_minute: int = Field(default=30, ge=1, le=10_000)
    """Wrong tokens one client address may present in a minute; past it, its requests
    are answered 429 until the minute is over."""

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(h.strip() for h in value.split(",") if h.strip())
        return value

    def trusted_hosts(self) -> tuple[str, ...]:
        """The ``Host`` values this server answers to: ``public_url``'s host, the
        ``allowed_hosts``, and the loopback names on ``port`` (a page elsewhere that
        rebinds its name to this address still sends its own name).

        An entry without a port matches any port; never taken from a request."""
        hosts = [h.lower() for h in self.allowed_hosts]
        if self.public_url:
            hosts.append(urlsplit(self.public_url).netloc.lower())
        return (*hosts, *(f"{h}:{self.port}" for h in LOOPBACK_HOSTS))


class SchedulerSettings(BaseModel):
    enabled: bool | None = None
    """Run the scheduler (and the webhook worker) in this process. Unset: ``throughline
    serve`` and ``throughline worker`` run them, ``serve --no-worker`` and an app built by
    ``create_app`` (tests) do not."""
    misfire_grace_seconds: int = Field(default=300, gt=0)
    census_cron: str = "30 2 * * *"
    """When the deletion census of every source runs (crontab, UTC): nightly."""
    recompute_retry_seconds: float = Field(default=5.0, gt=0, le=3600)
    """A roll-up recompute that failed after a sync or webhook batch is tried again after
    this long, then twice as long, … up to ten minutes, until it succeeds."""


class WebhookSettings(BaseModel):
    secret_key: SecretStr | None = None
    """Seals the secrets Asana hands over in its handshake (any long random string); without
    it no Asana handshake is accepted, since its secret could only be kept in clear."""
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    max_concurrent_uploads: int = Field(default=64, ge=1, le=10_000)
    """Deliveries whose bodies are read at once; more are answered 503 with Retry-After
    (trackers deliver again), so at most this many times ``max_body_bytes`` is held."""
    retention_days: float = Field(default=14.0, gt=0, le=3650)
    """Applied and rejected events older than this are trimmed from the inbox (daily);
    failed and pending ones are kept until they are applied."""
    worker: bool = True
    """Drain the inbox in this process (``throughline serve``)."""
    batch_size: int = Field(default=500, ge=1, le=10_000)
    max_attempts: int = Field(default=6, ge=1, le=100)
    """Tries of a failing event before it is parked as ``failed``."""
    retry_seconds: float = Field(default=2.0, gt=0)
    """First retry delay; doubled after each failure (capped at an hour)."""
    poll_seconds: float = Field(default=1.0, gt=0)
    """How often the worker looks for events another process stored."""
    gather_seconds: float = Field(default=0.05, ge=0, le=5)
    """How long a woken worker lets a burst gather before claiming a batch."""
    busy_batch_size: int = Field(default=100, ge=1, le=10_000)
    """Most events per batch while deliveries arrive (fewer when ``busy_batch_seconds``
    says so)."""
    busy_batch_seconds: float = Field(default=0.02, gt=0, le=10)
    """While deliveries arrive, the longest one batch's write transaction may take: the
    worker sizes its batches from the time per event its last batches took, so that
    SQLite's write lock, which intake waits for, is soon free again."""
    busy_share: float = Field(default=0.3, gt=0, le=1)
    """While deliveries stream into the process, the worker's share of its time (1: no
    limit); the rest keeps answers fast."""
    recompute_seconds: float = Field(default=10.0, ge=0, le=600)
    """While events keep coming, recompute the roll-up at most this often; it is
    recomputed at once whenever the inbox runs dry."""


class MetricsSettings(BaseModel):
    token: SecretStr | None = None
    """The Bearer token Prometheus scrapes ``/metrics`` with. Without it, ``/metrics``
    takes any API token (or nothing, with ``auth: none``)."""
    port: int | None = Field(default=None, ge=0, le=65535)
    """Serve ``/metrics`` on a listener of its own at this port (and not on the main
    one): for a scraper that reaches a private address only."""
    host: str = "127.0.0.1"
    """The metrics listener's address."""


class LogSettings(BaseModel):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["auto", "json", "text"] = "auto"


class Settings(BaseSettings):
    """Everything the process reads from its environment, validated once at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="THROUGHLINE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    database_url: str = DEFAULT_DATABASE_URL
    database_echo: bool = False
    database_pool_size: int = Field(default=10, ge=1, le=1_000)
    """Connections a process keeps open to the database."""
    database_max_overflow: int = Field(default=20, ge=0, le=1_000)
    """Connections it may open beyond ``database_pool_size`` at busy times."""
    database_pool_timeout: float = Field(default=10.0, gt=0, le=600)
    """How long a request waits for a free connection before it is answered 503."""
    config: Path = Path("throughline.yaml")
    server: ServerSettings = ServerSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    log: LogSettings = LogSettings()
    shutdown_seconds: float = Field(default=20.0, gt=0, le=600)
    """On SIGTERM, how long the process may take to stop: requests in flight and running
    jobs finish within it; a job still running after it is stopped cleanly (a sync
    abandons the page in hand, which the next sync re-reads)."""
    role: Literal["server", "worker"] = "server"
    """``server``: the API and pages (``throughline serve``); ``worker``: only the
    operational endpoints (``/healthz``, ``/readyz``, ``/metrics``) beside the scheduler
    and webhook worker (``throughline worker``)."""
    webhooks: WebhookSettings = WebhookSettings()
    metrics: MetricsSettings = MetricsSettings()

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, url: str) -> str:
        return async_database_url(url)


def async_database_url(url: str) -> str:
    """Map a plain database URL to the async driver the service uses for that database.

    Operators write the URL they know (``sqlite:///x.db``, ``postgresql://...``); the
    service needs aiosqlite and psycopg 3 respectively.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {url!r}")
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return f"sqlite+aiosqlite://{rest}"
    if scheme in ("postgres", "postgresql", "postgresql+psycopg2", "postgresql+asyncpg"):
        return f"postgresql+psycopg://{rest}"
    if scheme in ("sqlite+aiosqlite", "postgresql+psycopg"):
        return url
    raise ValueError(f"unsupported database {scheme!r}: use sqlite:// or postgresql://")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; called only by the composition root and the CLI."""
    return Settings()
