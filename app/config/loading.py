"""Reading the YAML configuration, with line-accurate errors.

The file is parsed into the typed models of ``app.config.models``; every problem is
reported at once with the file, the line and a plain sentence, so an operator fixes a
broken file in one pass. Secrets are never in the file: it names environment variables,
which are resolved (and checked) here.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from app.config.goals import portfolio_problems
from app.config.models import DeliveryConfig, ThroughlineConfig
from rollup.people import normalise


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
    found += portfolio_problems(data)
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
        if config.server.oidc is not None:
            refs.append(
                (("server", "oidc", "client_secret_env"), config.server.oidc.client_secret_env)
            )
    for index, source in enumerate(config.sources):
        refs.append((("sources", index, "auth", "token_env"), source.auth.token_env))
        if source.auth.email_env:
            refs.append((("sources", index, "auth", "email_env"), source.auth.email_env))
        if source.webhook and source.webhook.secret_env:
            refs.append((("sources", index, "webhook", "secret_env"), source.webhook.secret_env))
    for index, program in enumerate(config.programs):
        refs += _delivery_secrets(("programs", index, "report", "deliver"), program.report.deliver)
        alerts = program.alerts.deliver
        if alerts is not None:
            loc: tuple[str | int, ...] = ("programs", index, "alerts", "deliver")
            refs += _delivery_secrets(loc, DeliveryConfig(slack=alerts.slack, email=alerts.email))
            if alerts.webhook:
                refs.append(((*loc, "webhook", "url_env"), alerts.webhook.url_env))
                refs.append(((*loc, "webhook", "secret_env"), alerts.webhook.secret_env))
    if config.digest is not None:
        refs += _delivery_secrets(("digest", "deliver"), config.digest.deliver)
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
