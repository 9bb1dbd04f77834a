"""What Northwind Outfitters plans: its people, its teams' lanes, their epics and stories.

Plain data, written as a company's backlog reads. ``flow`` plays it out over six months;
``world`` puts it in the fake Jira and the fake Asana. Days count from the start of the
history (day 0 is 26 weeks before today); a lane works its epics in order.
"""

from __future__ import annotations

from dataclasses import dataclass

DOMAIN = "northwind.example"


@dataclass(frozen=True, slots=True)
class Person:
    name: str

    @property
    def email(self) -> str:
        first, last = self.name.lower().split(" ", 1)
        return f"{first}.{last.replace(' ', '').replace(chr(39), '')}@{DOMAIN}"


@dataclass(frozen=True, slots=True)
class Story:
    title: str
    points: int
    opens_on: int | None = None
    """The day it is written (default: with its epic); later means scope added."""
    due_in: int | None = None
    """Its due date, in days from today (default: none, or its epic's when work needs it)."""
    days: tuple[int, int] | None = None
    """Working days it takes, at least and at most (default: its lane's)."""


@dataclass(frozen=True, slots=True)
class Epic:
    title: str
    opens_on: int
    stories: tuple[Story, ...]
    due_in: int | None = None
    """Due date, in days from today."""


@dataclass(frozen=True, slots=True)
class Milestone:
    title: str
    due_in: int
    """Days from today (negative: in the past, and then reached on that day)."""


@dataclass(frozen=True, slots=True)
class Lane:
    """One team's board: a Jira project or an Asana project."""

    slug: str
    """The Jira project key, or a short name for the Asana project."""
    name: str
    tracker: str
    """jira | asana"""
    team: str
    people: tuple[str, ...]
    wip: int
    days: tuple[int, int]
    """How many working days a story takes, at least and at most."""
    epics: tuple[Epic, ...]
    milestones: tuple[Milestone, ...] = ()


def _s(*rows: tuple[str, int] | tuple[str, int, int] | Story) -> tuple[Story, ...]:
    return tuple(row if isinstance(row, Story) else Story(*row) for row in rows)


PEOPLE = tuple(
    Person(n)
    for n in (
        "Amara Okafor",
        "Ben Whitfield",
        "Chiara Rossi",
        "Dmitri Volkov",
        "Elena Marquez",
        "Farah Haddad",
        "Gustav Lindqvist",
        "Hana Sato",
        "Isaac Mensah",
        "Julia Novak",
        "Kiran Patel",
        "Lucia Ferreira",
        "Mateo Alvarez",
        "Nadia Karimi",
        "Oliver Brandt",
        "Priya Raman",
        "Quinn O'Neill",
        "Rafael Costa",
        "Sofia Lindgren",
        "Tomás Herrera",
    )
)
PERSON = {p.name: p for p in PEOPLE}

# Checkout v2, in Jira: payments, the storefront and fraud.
PAY = Lane(
    "PAY",
    "Payments",
    "jira",
    "Payments",
    ("Amara Okafor", "Dmitri Volkov", "Hana Sato"),
    wip=1,
    days=(7, 12),
    epics=(
        Epic(
            "Card vault: store cards safely for returning shoppers",
            20,
            _s(
                ("Spike: compare vault providers on PCI scope and cost", 3),
                ("Tokenise cards at the payment step", 8),
                ("Migrate stored PANs to vault tokens", 13),
                ("Delete vault tokens when a shopper closes their account", 3),
                ("Alert on vault latency above 300 ms", 2),
                ("Rotate the vault API keys without downtime", 5),
                ("Reconcile vault tokens with the billing ledger nightly", 5),
            ),
            due_in=-20,
        ),
        Epic(
            "One-click payment API",
            60,
            _s(
                ("Design the one-click charge endpoint", 3),
                ("Idempotency keys on charge requests", 5),
                ("Charge a saved card without re-entering the CVC", 8),
                ("Retry soft declines once with backoff", 5),
                ("Partial captures for split shipments", 8),
                ("Refund a one-click order from the support console", 5),
                ("Rate-limit one-click charges per shopper", 3),
                ("Contract tests between checkout and payments", 5),
                ("Tokenise saved cards for one-click", 8, 166),
                ("Handle expired saved cards gracefully", 5, 150),
            ),
            due_in=30,
        ),
        Epic(
            "3-D Secure 2 for European cards",
            120,
            _s(
                ("3-D Secure 2 challenge flow", 8),
                ("Frictionless flow with device data", 5),
                ("Exemptions for low-value transactions", 5),
                ("Fallback to 3-D Secure 1 for old issuers", 3),
                ("Report on authentication rates by issuer", 3),
                ("SCA soft-decline handling", 5, 160),
                ("Merchant-initiated transaction flagging", 5, 160),
            ),
            due_in=40,
        ),
    ),
)
WEB = Lane(
    "WEB",
    "Storefront",
    "jira",
    "Storefront",
    ("Ben Whitfield", "Elena Marquez", "Kiran Patel", "Lucia Ferreira"),
    wip=2,
    days=(12, 20),
    epics=(
        Epic(
            "Checkout page rebuild",
            5,
            _s(
                ("Single-page checkout layout", 5),
                ("Address autocomplete", 3),
                ("Inline validation on the payment form", 3),
                ("Guest checkout without an account", 5),
                ("Order summary that updates with shipping choice", 3),
                ("Accessible error messages (WCAG 2.2 AA)", 3),
                ("Keep the basket when the session times out", 2),
                ("Checkout page loads in under 1.5 s on 4G", 5),
                ("A/B test the new page against the old one", 3),
            ),
            due_in=-35,
        ),
        Epic(
            "Express checkout",
            70,
            _s(
                ("Show saved cards on the payment step", 5, 168),
                ("Express checkout button on product pages", 5, 125),
                ("Apple Pay on the web", 8),
                ("Google Pay on the web", 8),
                ("Confirm-and-pay screen for returning shoppers", 5),
                ("Default shipping address for one-click orders", 3),
                ("Undo window after a one-click order", 5),
                ("Express checkout analytics events", 2),
                ("Express checkout on the basket drawer", 3, 140),
                ("Express checkout for gift cards", 5, 155),
                ("PayPal in express checkout", 8, 165),
            ),
            due_in=35,
        ),
    ),
)
RISK = Lane(
    "RISK",
    "Fraud & Risk",
    "jira",
    "Fraud",
    ("Gustav Lindqvist", "Nadia Karimi"),
    wip=1,
    days=(10, 16),
    epics=(
        Epic(
            "Fewer false declines",
            30,
            _s(
                ("Export decline reasons to the warehouse", 3),
                ("Label last quarter's false declines", 5),
                ("Retrain the risk model with the labelled declines", 8),
                ("Shadow-score orders with the new model", 5),
                ("Step-up to 3-D Secure instead of declining", 5),
                ("Allow-list trusted returning shoppers", 3),
                ("Manual review queue for borderline orders", 8),
                ("Dashboard: decline rate by card country", 3),
                ("Roll the new model out to 100 %", 2),
            ),
            due_in=55,
        ),
        Epic(
            "Chargeback handling",
            100,
            _s(
                ("Ingest chargeback notifications", 5),
                ("Attach evidence to disputes automatically", 8),
                ("Weekly chargeback report for finance", 3),
                ("Flag shoppers with repeated chargebacks", 3),
            ),
            due_in=60,
        ),
    ),
)

# Mobile app relaunch, in Asana: iOS, Android and design.
IOS = Lane(
    "ios",
    "iOS app 5.0",
    "asana",
    "Mobile",
    ("Chiara Rossi", "Isaac Mensah", "Sofia Lindgren"),
    wip=2,
    days=(10, 16),
    epics=(
        Epic(
            "New navigation",
            10,
            _s(
                ("Tab bar with Shop, Wishlist, Orders and Account", 5),
                ("Deep links into every tab", 3),
                ("Remember the last tab between launches", 1),
                ("Haptics on tab change", 1),
                ("Migrate settings into the Account tab", 3),
            ),
        ),
        Epic(
            "Faster product pages",
            40,
            _s(
                ("Prefetch product images on the listing", 3),
                ("Cache product details for offline browsing", 5),
                ("Skeleton screens while loading", 2),
                ("Cut cold start to under 1 s on iPhone 12", 8),
                ("Swipe between product photos", 2),
                ("Size guide as a sheet", 2),
            ),
        ),
        Epic(
            "Orders and returns",
            90,
            _s(
                ("Order history with search", 3),
                ("Track a parcel on a map", 5),
                ("Start a return from the app", 5),
                ("Print-free returns with a QR code", 3),
                ("Push notification when a refund lands", 2),
                ("Rate a delivered order", 1),
            ),
        ),
        Epic(
            "App Store readiness",
            100,
            _s(
                ("Privacy nutrition labels", 1),
                ("New screenshots for every device size", 2),
                ("Crash-free sessions above 99.8 %", 5),
                ("Accessibility audit fixes", 3),
            ),
        ),
    ),
    milestones=(
        Milestone("Beta on TestFlight", -40),
        Milestone("Submit 5.0 to the App Store", 50),
    ),
)
ANDROID = Lane(
    "android",
    "Android app 5.0",
    "asana",
    "Mobile",
    ("Farah Haddad", "Oliver Brandt", "Tomás Herrera"),
    wip=2,
    days=(10, 18),
    epics=(
        Epic(
            "Jetpack Compose migration",
            12,
            _s(
                ("Product listing in Compose", 5),
                ("Product page in Compose", 5),
                ("Basket in Compose", 3),
                ("Account screens in Compose", 3),
                ("Remove the last XML layouts", 2),
            ),
        ),
        Epic(
            "New navigation (Android)",
            45,
            _s(
                ("Bottom navigation with four destinations", 3),
                ("Predictive back gesture", 3),
                ("Deep links into every destination", 3),
                ("Tablet layout with a navigation rail", 5),
            ),
        ),
        Epic(
            "Orders and returns (Android)",
            95,
            _s(
                ("Order history with search", 3),
                ("Track a parcel on a map", 5),
                ("Start a return from the app", 5),
                ("Refund notifications", 2),
                ("Rate a delivered order", 1),
            ),
        ),
        Epic(
            "Play Store readiness",
            104,
            _s(
                ("Data safety form", 1),
                ("Target API level 35", 3),
                ("ANR rate below 0.2 %", 5),
                ("Staged rollout plan", 1),
            ),
        ),
    ),
    milestones=(
        Milestone("Internal testing track live", -45),
        Milestone("Production rollout at 20 %", 65),
    ),
)
DESIGN = Lane(
    "design",
    "Design system refresh",
    "asana",
    "Design",
    ("Julia Novak", "Mateo Alvarez"),
    wip=1,
    days=(6, 10),
    epics=(
        Epic(
            "Tokens and type",
            0,
            _s(
                ("Colour tokens with dark mode pairs", 3),
                ("Type scale for phones and tablets", 2),
                ("Spacing and radius tokens", 1),
                ("Publish tokens to iOS and Android", 3),
            ),
        ),
        Epic(
            "Components",
            35,
            _s(
                ("Buttons and links", 2),
                ("Product card", 3),
                ("Bottom sheets", 3),
                ("Form fields and errors", 3),
                ("Empty states with illustrations", 2),
                ("Toasts and banners", 1),
            ),
        ),
        Epic(
            "Usability testing",
            80,
            _s(
                ("Recruit twelve shoppers for sessions", 1),
                ("Test the new navigation", 2),
                ("Test returns end to end", 2),
                ("Write up findings for both app teams", 1),
            ),
        ),
    ),
)

# Self-serve onboarding, across both: the accounts API in Jira, growth in Asana.
ACC = Lane(
    "ACC",
    "Accounts & Billing",
    "jira",
    "Accounts",
    ("Priya Raman", "Rafael Costa", "Quinn O'Neill"),
    wip=2,
    days=(8, 12),
    epics=(
        Epic(
            "Self-serve accounts",
            50,
            _s(
                ("Plans API: list plans and prices", 5),
                ("Create an account without a sales contact", 8),
                ("Email verification with magic links", 3),
                ("Card on file at sign-up", 5),
                ("Move trial limits into the entitlement service", 5),
                ("Enforce seat limits at sign-up", 3),
                ("Expose entitlements in the accounts API", 5),
                ("Upgrade from trial to paid in place", 8),
                ("Invoices in the customer's currency", 5),
                ("Single sign-on for trial workspaces", 8, 158),
                ("SCIM provisioning for trials", 8, 158),
                ("Audit log of plan changes", 3, 158),
                # Long work the Growth team's Google sign-up waits for, due after it.
                Story(
                    "Google Workspace identities in the accounts API",
                    13,
                    150,
                    due_in=28,
                    days=(30, 36),
                ),
            ),
            due_in=45,
        ),
        Epic(
            "Trial insights",
            90,
            _s(
                ("Track activation events from the product", 5),
                ("Daily trial health score", 5),
                ("Expose trial health to the CRM", 3),
                ("Churn-risk flag for trials in week two", 5),
            ),
            due_in=80,
        ),
    ),
)
GROWTH = Lane(
    "onboarding",
    "Onboarding journey",
    "asana",
    "Growth",
    ("Priya Raman", "Lucia Ferreira", "Quinn O'Neill"),
    wip=2,
    days=(10, 14),
    epics=(
        Epic(
            "Sign-up flow",
            55,
            _s(
                ("Plan picker page", 3),
                ("Sign-up form with company size", 2),
                ("Welcome screen with a three-step checklist", 3),
                ("Invite teammates during sign-up", 3),
                ("Sample data for new workspaces", 5),
                ("Sign-up funnel dashboard", 2),
                ("Localise sign-up into German and French", 3, 150),
                Story("Sign-up with Google Workspace", 5, 158, due_in=14),
                ("Sign-up with Microsoft accounts", 5, 158),
            ),
        ),
    ),
    milestones=(Milestone("Self-serve live for 10 % of sign-ups", 45),),
)
LIFECYCLE = Lane(
    "lifecycle",
    "Lifecycle emails",
    "asana",
    "Growth",
    ("Nadia Karimi", "Amara Okafor"),
    wip=1,
    days=(10, 14),
    epics=(
        Epic(
            "Activation emails",
            80,
            _s(
                ("Day-one welcome email", 2),
                ("Nudge: invite your team (day three)", 2),
                ("Nudge: connect your first integration (day five)", 3),
                ("Trial-ending reminder with usage summary", 3),
                ("Win-back email a week after the trial ends", 2),
                ("Unsubscribe and preference centre", 3),
                ("Send-time optimisation by time zone", 3, 160),
                ("Plain-text versions of every email", 1, 160),
            ),
        ),
    ),
)

LANES = (PAY, WEB, RISK, IOS, ANDROID, DESIGN, ACC, GROWTH, LIFECYCLE)
STORIES = {story.title: story for lane in LANES for epic in lane.epics for story in epic.stories}
HISTORY_DAYS = 182
"""Twenty-six weeks of history end today."""

BLOCKS = (
    # (blocker, blocked): titles, each unique across the organisation.
    ("Tokenise cards at the payment step", "Charge a saved card without re-entering the CVC"),
    ("Tokenise saved cards for one-click", "Show saved cards on the payment step"),
    ("3-D Secure 2 challenge flow", "Express checkout button on product pages"),
    ("Design the one-click charge endpoint", "Confirm-and-pay screen for returning shoppers"),
    ("Publish tokens to iOS and Android", "Product listing in Compose"),
    ("Plans API: list plans and prices", "Plan picker page"),
    ("Track activation events from the product", "Trial-ending reminder with usage summary"),
    # Across trackers and late: the Asana task is due two weeks before the Jira story.
    ("Google Workspace identities in the accounts API", "Sign-up with Google Workspace"),
    # The cycle: each waits for the next, so none can start.
    ("Move trial limits into the entitlement service", "Enforce seat limits at sign-up"),
    ("Enforce seat limits at sign-up", "Expose entitlements in the accounts API"),
    ("Expose entitlements in the accounts API", "Move trial limits into the entitlement service"),
)
JUMPS_QUEUE = ("Show saved cards on the payment step",)
"""Started the day they are written, although their blocker has not: the storefront did
not wait for payments."""
NEEDS_BY = {"Express checkout button on product pages": 14}
"""Start dates (days from today) of work that needs its blocker by then."""
