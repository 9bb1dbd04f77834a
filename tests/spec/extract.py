"""Vendor the parts of the official OpenAPI documents that Throughline and its fakes use.

Reads the vendors' documents (Atlassian's Jira Cloud platform swagger-v3, Asana's
``asana_oas.yaml``), keeps the operations listed below with every component they refer
to, and writes ``jira.json`` and ``asana.json`` beside this file, each with an
``x-vendored`` block naming the source file, its origin and ``info.version``. Run it again
when the reference documents are refreshed:

    python -m tests.spec.extract [--reference DIR]

The vendored files are the vendors' words, unchanged: where a real site differs from its
own document, the difference is stated in ``tests/spec/deviations.py``, not edited here.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
DEFAULT_REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "openapi"

JIRA_OPERATIONS = {
    "/rest/api/3/serverInfo": ["get"],
    "/rest/api/3/myself": ["get"],
    "/rest/api/3/field": ["get"],
    "/rest/api/3/status": ["get"],
    "/rest/api/3/project": ["get"],
    "/rest/api/3/project/search": ["get"],
    "/rest/api/3/project/{projectIdOrKey}": ["get"],
    "/rest/api/3/search": ["get", "post"],
    "/rest/api/3/search/jql": ["get", "post"],
    "/rest/api/3/issue/bulkfetch": ["post"],
    "/rest/api/3/changelog/bulkfetch": ["post"],
    "/rest/api/3/issue/{issueIdOrKey}": ["get"],
    "/rest/api/3/issue/{issueIdOrKey}/changelog": ["get"],
    "/rest/api/3/webhook": ["get", "post", "delete"],
    "/rest/api/3/webhook/refresh": ["put"],
}
ASANA_OPERATIONS = {
    "/users/{user_gid}": ["get"],
    "/workspaces": ["get"],
    "/workspaces/{workspace_gid}/teams": ["get"],
    "/workspaces/{workspace_gid}/projects": ["get"],
    "/teams/{team_gid}/projects": ["get"],
    "/projects": ["get"],
    "/projects/{project_gid}": ["get"],
    "/projects/{project_gid}/sections": ["get"],
    "/projects/{project_gid}/tasks": ["get"],
    "/sections/{section_gid}/tasks": ["get"],
    "/tasks": ["get"],
    "/tasks/{task_gid}": ["get"],
    "/tasks/{task_gid}/subtasks": ["get"],
    "/tasks/{task_gid}/dependencies": ["get"],
    "/tasks/{task_gid}/dependents": ["get"],
    "/tasks/{task_gid}/stories": ["get"],
    "/portfolios": ["get"],
    "/portfolios/{portfolio_gid}/items": ["get"],
    "/status_updates": ["get"],
    "/status_updates/{status_update_gid}": ["get"],
    "/events": ["get"],
    "/webhooks": ["get", "post"],
    "/webhooks/{webhook_gid}": ["delete"],
}

SOURCES = {
    "jira": (
        "jira-cloud-platform.v3.json",
        "Atlassian's Jira Cloud platform REST API (swagger-v3.v3.json) as kept in "
        "shared/reference/openapi (GitHub jarekbird/jira-api-mcp-wrapper, commit "
        "9a9e84dacce9900b0bd4f1f095f5f1bdf3ce0168, December 2025)",
        JIRA_OPERATIONS,
    ),
    "asana": (
        "asana_oas.yaml",
        "Asana's public API (defs/asana_oas.yaml of GitHub Asana/openapi, snapshot of June "
        "2026, Apache 2.0) as kept in shared/reference/openapi",
        ASANA_OPERATIONS,
    ),
}


def load(path: Path) -> dict[str, Any]:
    text = path.read_text()
    if path.suffix == ".json":
        loaded: dict[str, Any] = json.loads(text)
        return loaded
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    # Round-trip through JSON: YAML reads status codes as integers, JSON keys are strings.
    return dict(json.loads(json.dumps(yaml.load(text, Loader=loader))))


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def extract(document: dict[str, Any], operations: dict[str, list[str]]) -> dict[str, Any]:
    """The operations asked for, the path-level parameters, and every referred component."""
    paths: dict[str, Any] = {}
    for path, methods in operations.items():
        item = document["paths"][path]
        kept = {m: item[m] for m in methods}
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
    components: dict[str, dict[str, Any]] = {}
    pending = list(_refs(paths))
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        _, kind, name = ref.lstrip("#/").split("/", 2)
        target = document["components"][kind][name]
        components.setdefault(kind, {})[name] = target
        pending.extend(_refs(target))
    vendored = {
        "openapi": document["openapi"],
        "info": document["info"],
        "servers": document.get("servers", []),
        "paths": paths,
        "components": {k: dict(sorted(v.items())) for k, v in sorted(components.items())},
    }
    if "securitySchemes" in document.get("components", {}):
        vendored["components"]["securitySchemes"] = document["components"]["securitySchemes"]
    return vendored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE)
    args = parser.parse_args()
    for name, (filename, origin, operations) in SOURCES.items():
        document = load(args.reference / filename)
        vendored = extract(document, operations)
        vendored["x-vendored"] = {
            "file": filename,
            "origin": origin,
            "info.version": document["info"].get("version"),
            "operations": sum(len(m) for m in operations.values()),
        }
        out = HERE / f"{name}.json"
        out.write_text(json.dumps(vendored, indent=1, sort_keys=False) + "\n")
        print(f"{out.name}: {len(vendored['paths'])} paths from {filename}")


if __name__ == "__main__":
    main()
