"""The demo's configuration: two sources pointing at the fakes, three programs, two goals.

Targets are days from today, so the demo tells the same story whatever the day: Checkout
v2 slips, the Mobile relaunch is on track, Self-serve onboarding can make its dates but is
held up by a cycle, by scope added late and by a Google sign-up in Asana waiting on Jira
work due after it. Above them, two company goals: online revenue (held back by Checkout)
and mobile (whose store release waits on Checkout's one-click payments).
"""

from __future__ import annotations

from datetime import date, timedelta

from connectors.fake.org import HISTORY_DAYS, Flow, Organisation

JIRA_SOURCE = "northwind-jira"
ASANA_SOURCE = "northwind-asana"
BASELINE_DAYS = 63
"""Plans were agreed nine weeks ago: work added since is scope growth."""
ENVIRON = {
    "DEMO_JIRA_EMAIL": "pm@example.com",
    "DEMO_JIRA_TOKEN": "fake-token",
    "DEMO_ASANA_TOKEN": "fake-token",
}
"""The fakes' own credentials (they accept nothing else); no real secret anywhere."""
JIRA_WEBHOOK_SECRET_ENV = "DEMO_JIRA_WEBHOOK_SECRET"  # noqa: S105 (a variable name)
"""Names the secret the fake Jira signs deliveries with (made afresh at each start)."""
JIRA_PROJECTS = ("PAY", "WEB", "RISK", "ACC")


def rehearse(today: date, *, seed: int) -> Organisation:
    """The organisation as it will stand after its history, played on a scratch copy.

    Epics are created over the months, so their keys exist only once the history has been
    played; the play is seeded, so a scratch run names them as the real run will.
    """
    org = Organisation()
    Flow(org, today=today, seed=seed).play(HISTORY_DAYS - 1)
    return org


def config_text(
    org: Organisation, *, jira_url: str, asana_url: str, today: date, sync_every: str = "30s"
) -> str:
    """The YAML the demo writes next to its store, for the fakes at these URLs; ``org`` is
    the rehearsed organisation (its epics' keys)."""

    def on(days: int) -> str:
        return (today + timedelta(days=days)).isoformat()

    def epics(*titles: str) -> str:
        return ", ".join(org.by_title[t].key for t in titles)

    gid = org.projects
    jira_projects = ", ".join(JIRA_PROJECTS)
    asana_projects = ", ".join(f'"{g}"' for g in gid.values())
    return f"""\
# Written by `throughline demo` at every start: the fakes listen on new ports each time.
# Local use only: nobody needs a token.
server:
  auth: none
sources:
  - name: {JIRA_SOURCE}
    kind: jira
    url: {jira_url}
    deployment: cloud
    auth: {{email_env: DEMO_JIRA_EMAIL, token_env: DEMO_JIRA_TOKEN}}
    webhook: {{secret_env: {JIRA_WEBHOOK_SECRET_ENV}}}
    projects: [{jira_projects}]
    sync_every: {sync_every}
  - name: {ASANA_SOURCE}
    kind: asana
    url: {asana_url}/api/1.0
    auth: {{token_env: DEMO_ASANA_TOKEN}}
    workspace: "{org.world.workspace}"
    projects: [{asana_projects}]
    estimate_field: Story points
    requests_per_second: 1000   # the fake has no quota; a real workspace paces itself
    sync_every: {sync_every}
programs:
  - key: checkout
    name: Checkout v2
    owner: Dana Whitaker
    timezone: Europe/Berlin
    baseline: {on(-BASELINE_DAYS)}
    outcomes:
      - key: new-checkout
        name: New checkout page for every shopper
        owner: Ben Whitfield
        target: {on(-14)}
        match:
          - {{source: {JIRA_SOURCE}, epics: [{
        epics("Checkout page rebuild", "Card vault: store cards safely for returning shoppers")
    }]}}
      - key: one-click
        name: Pay in one click
        owner: Chiara Rossi
        target: {on(35)}
        match:
          - {{source: {JIRA_SOURCE}, epics: [{
        epics("One-click payment API", "Express checkout", "3-D Secure 2 for European cards")
    }]}}
      - key: fewer-declines
        name: Fewer false declines
        owner: Dmitri Volkov
        target: {on(150)}
        match:
          - {{source: {JIRA_SOURCE}, projects: [RISK]}}
  - key: mobile
    name: Mobile app relaunch
    owner: Leo Marsh
    timezone: America/New_York
    baseline: {on(-BASELINE_DAYS)}
    # Version 5.0's scope is frozen: its forecast does not project the growth of the past.
    forecast: {{scope_growth: false}}
    outcomes:
      - key: store-release
        name: Version 5.0 in both app stores
        owner: Elena Marquez
        target: {on(150)}
        match:
          - {{source: {ASANA_SOURCE}, projects: ["{gid["ios"]}", "{gid["android"]}"]}}
        depends_on:   # the app's checkout pays through the one-click API
          - {{program: checkout, outcome: one-click, needed_by: {on(45)}}}
      - key: design-system
        name: One design system in both apps
        owner: Farah Haddad
        target: {on(60)}
        match:
          - {{source: {ASANA_SOURCE}, projects: ["{gid["design"]}"]}}
  - key: onboarding
    name: Self-serve onboarding
    owner: Maya Ito
    timezone: Europe/London
    baseline: {on(-BASELINE_DAYS)}
    # The team re-plans its scope every month: its forecast does not project past growth.
    forecast: {{scope_growth: false}}
    outcomes:
      - key: signup
        name: Sign up without talking to sales
        owner: Gustav Lindqvist
        target: {on(150)}
        match:
          - {{source: {JIRA_SOURCE}, epics: [{epics("Self-serve accounts")}]}}
          - {{source: {ASANA_SOURCE}, projects: ["{gid["onboarding"]}"]}}
      - key: activation
        name: Trials activate in their first week
        owner: Kiran Patel
        target: {on(180)}
        match:
          - {{source: {JIRA_SOURCE}, epics: [{epics("Trial insights")}]}}
          - {{source: {ASANA_SOURCE}, projects: ["{gid["lifecycle"]}"]}}
goals:
  - key: online-revenue
    name: Grow online revenue by a fifth
    owner: Ruth Adeyemi
    period: {{start: {on(-BASELINE_DAYS)}, end: {on(120)}, label: the next four months}}
    contributors:
      - {{program: checkout, weight: 2}}
      - {{program: onboarding, outcome: signup}}
    key_results:
      - {{key: shipped, name: Every checkout and sign-up outcome done, metric: outcomes_done,
         target: 4}}
      - {{key: confident, name: Likely within the four months, metric: on_time, target: 80}}
  - key: mobile-first
    name: Win on mobile
    owner: Sam Okoro
    period: {{start: {on(-BASELINE_DAYS)}, end: {on(150)}, label: the next five months}}
    contributors:
      - {{program: mobile, weight: 2}}
      - {{program: checkout, outcome: one-click}}
    key_results:
      - {{key: progress, name: Most of the work done, metric: percent_done, target: 75}}
"""
