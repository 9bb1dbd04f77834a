"""Audit the installed dependencies for known vulnerabilities (pip-audit), by our policy.

Policy (README, "Dependency audit"):

- Every known vulnerability in an installed distribution fails the audit, unless it is
  listed in ``.ci/audit-ignore.txt`` as ``ID REVIEW-BY REASON`` (one per line, ``#``
  comments): a finding we have judged (not reachable from Throughline, no fix yet), until
  a date by which it is judged again. An entry past its date fails the audit.
- The advisory service (PyPI's JSON API) unreachable: nothing was checked. The audit
  says so loudly and exits 2, a failure under ``CI=true`` (a loud warning on a
  workstation, like the PostgreSQL leg).
- A distribution whose installed version PyPI does not publish (a wheel from a private
  mirror or a local build) cannot be checked against PyPI's advisories: each is listed
  loudly and the audit exits 3, a warning, not a failure: such a version is not on PyPI
  for anyone to report against, and failing would stop every build from a mirror.
  pip-audit itself prints "No known vulnerabilities found" and exits 0 in both cases,
  which is why this wrapper exists.

Exit codes: 0 clean, 1 findings, 2 the service was unreachable, 3 some versions unknown
to PyPI (listed).
"""

# ruff: noqa: T201  (a command-line report)
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IGNORE = ROOT / ".ci" / "audit-ignore.txt"
BANNER = "!" * 80


def ignored(today: date) -> tuple[dict[str, str], list[str]]:
    entries: dict[str, str] = {}
    problems: list[str] = []
    if not IGNORE.exists():
        return entries, problems
    for number, raw in enumerate(IGNORE.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            problems.append(f"{IGNORE.name}:{number}: want 'ID REVIEW-BY REASON': {raw!r}")
            continue
        vuln, until, reason = parts
        try:
            review_by = date.fromisoformat(until)
        except ValueError:
            problems.append(f"{IGNORE.name}:{number}: {until!r} is not a date (YYYY-MM-DD)")
            continue
        if review_by < today:
            problems.append(f"{IGNORE.name}:{number}: {vuln} was to be reviewed by {until}")
            continue
        entries[vuln] = reason
    return entries, problems


def main() -> int:
    today = datetime.now(UTC).date()
    accepted, problems = ignored(today)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "audit.json"
        command = [
            str(Path(sys.executable).parent / "pip-audit"),
            "--skip-editable",
            "--progress-spinner",
            "off",
            "--format",
            "json",
            "--output",
            str(out),
        ]
        for vuln in accepted:
            command += ["--ignore-vuln", vuln]
        run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if not out.exists():
            print((run.stdout + run.stderr)[-3000:])
            print(BANNER)
            print("!!! pip-audit could not reach the advisory service (PyPI's JSON API):")
            print("!!! NOTHING WAS AUDITED. See the error above.")
            print(BANNER)
            return 2
        report = json.loads(out.read_text())
    findings = [
        (dep["name"], dep["version"], vuln)
        for dep in report.get("dependencies", [])
        for vuln in dep.get("vulns", [])
    ]
    skipped = [
        (dep["name"], dep.get("skip_reason", ""))
        for dep in report.get("dependencies", [])
        if dep.get("skip_reason") and "editable" not in dep["skip_reason"]  # Throughline
    ]
    audited = len(report.get("dependencies", [])) - len(skipped)
    for name, version, vuln in findings:
        fixes = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
        print(f"VULNERABLE {name} {version}: {vuln['id']} (fixed in: {fixes})")
        print(f"    {(vuln.get('description') or '').strip()[:300]}")
    for problem in problems:
        print(f"AUDIT IGNORE LIST: {problem}")
    for vuln, reason in accepted.items():
        print(f"accepted for now: {vuln}: {reason}")
    print(f"pip-audit: {audited} distribution(s) audited, {len(findings)} finding(s)")
    if findings or problems:
        return 1
    unknown = [(n, r) for n, r in skipped if "not found on PyPI" in r]
    other = [(n, r) for n, r in skipped if (n, r) not in unknown]
    if other:
        print(BANNER)
        print(f"!!! {len(other)} distribution(s) could NOT be audited:")
        for name, reason in other:
            print(f"!!!   {name}: {reason}")
        print(BANNER)
        return 2
    if unknown:
        print(BANNER)
        print(f"!!! {len(unknown)} of {len(skipped) + audited} installed distribution(s) have a")
        print("!!! version PyPI does not publish (a private mirror or local build), so PyPI's")
        print("!!! advisories cannot be checked for them. NOT AUDITED:")
        print("!!!   " + ", ".join(f"{n}" for n, _ in unknown))
        print(BANNER)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
