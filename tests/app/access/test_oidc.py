"""Single sign-on against a stand-in OpenID provider served over HTTP on loopback: the
authorization code flow with PKCE from the sign-in page to a session, groups mapped to
roles and to restricted programs, and each way an answer can be untrustworthy refused."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import parse_config
from connectors.fake.server import serve_in_thread
from tests.app.access import oidc_provider
from tests.app.access.conftest import CONFIG, Org, serve

HTML = {"Accept": "text/html"}


@pytest.fixture
def provider() -> Iterator[oidc_provider.StandIn]:
    stand_in = oidc_provider.StandIn()
    with serve_in_thread(stand_in.app()) as url:
        stand_in.issuer = url
        yield stand_in


@pytest.fixture
async def sso(
    provider: oidc_provider.StandIn,
    app_factory: Callable[..., FastAPI],
    committed_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Org]:
    monkeypatch.setenv("OIDC_SECRET", oidc_provider.CLIENT_SECRET)
    text = CONFIG.replace(
        "  auth: tokens\n",
        "  auth: tokens\n"
        "  oidc:\n"
        f"    issuer: {provider.issuer}\n"
        f"    client_id: {oidc_provider.CLIENT_ID}\n"
        "    client_secret_env: OIDC_SECRET\n"
        "    name: Acme login\n"
        "    admin_groups: [pmo]\n"
        "    viewer_groups: [staff]\n",
    )
    async for found in serve(app_factory(parse_config(text)), committed_engine, monkeypatch):
        yield found


async def _sign_in(org: Org, *, next_url: str = "/", state: str | None = None) -> httpx.Response:
    """Through the whole flow as a browser would; the callback's answer."""
    client = org.client
    started = await client.get(f"/sign-in/oidc?next={next_url}", headers=HTML)
    assert started.status_code == 303, started.text
    async with httpx.AsyncClient() as browser:
        at_provider = await browser.get(started.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/sign-in/oidc/callback"
    query = back.query
    if state is not None:
        query = (
            "&".join(p for p in query.split("&") if not p.startswith("state=")) + f"&state={state}"
        )
    return await client.get(f"{back.path}?{query}", headers=HTML)


async def test_a_person_signs_in_with_pkce_and_gets_their_groups(
    sso: Org, provider: oidc_provider.StandIn
) -> None:
    provider.user = {"sub": "u-17", "email": "ana@acme.test", "groups": ["staff", "platform-team"]}
    page = await _sign_in(sso, next_url="/programs/platform")
    assert page.status_code == 200, page.text
    assert 'content="0;url=/programs/platform"' in page.text
    assert provider.verifiers_checked == 1  # the stand-in checked the S256 verifier
    assert "throughline_session" in sso.client.cookies
    seen = await sso.client.get("/programs/platform", headers=HTML)
    assert seen.status_code == 200
    assert "ana@acme.test" in seen.text
    assert (await sso.client.get("/api/programs/platform")).status_code == 200
    # A viewer: no admin pages.
    assert (await sso.client.get("/api/audit")).status_code == 403


async def test_groups_decide_the_role_and_what_is_visible(
    sso: Org, provider: oidc_provider.StandIn
) -> None:
    provider.user = {"email": "bo@acme.test", "groups": ["pmo"]}
    assert (await _sign_in(sso)).status_code == 200
    assert (await sso.client.get("/api/audit")).status_code == 200
    sso.client.cookies.clear()
    provider.user = {"email": "cy@acme.test", "groups": ["staff"]}
    assert (await _sign_in(sso)).status_code == 200
    assert (await sso.client.get("/api/programs/platform")).status_code == 404
    assert (await sso.client.get("/api/programs/checkout")).status_code == 200
    sso.client.cookies.clear()
    provider.user = {"email": "dee@elsewhere.test", "groups": ["contractors"]}
    refused = await _sign_in(sso)
    assert refused.status_code == 401
    assert "none of their groups may use Throughline" in refused.text
    assert "throughline_session" not in sso.client.cookies


@pytest.mark.parametrize(
    ("tamper", "why"),
    [
        pytest.param(
            {"aud": "another-client", "azp": oidc_provider.CLIENT_ID},
            "Invalid claim: &#39;aud&#39;",
            id="wrong-audience",
        ),
        pytest.param({"aud": "another-client"}, "Invalid claim: &#39;aud&#39;", id="foreign-aud"),
        pytest.param({"exp": int(time.time()) - 3600}, "The token is expired", id="expired"),
        pytest.param({"nonce": "not-the-one-sent"}, "Invalid claim: &#39;nonce&#39;", id="nonce"),
        pytest.param({"iss": "https://evil.test"}, "Invalid claim: &#39;iss&#39;", id="issuer"),
    ],
)
async def test_an_untrustworthy_id_token_is_refused(
    sso: Org, provider: oidc_provider.StandIn, tamper: dict[str, object], why: str
) -> None:
    provider.user = {"email": "ana@acme.test", "groups": ["staff"]}
    provider.tamper = tamper
    page = await _sign_in(sso)
    assert page.status_code == 401, page.text
    assert f"The ID token is not valid ({why}" in page.text
    assert "throughline_session" not in sso.client.cookies
    assert (await sso.client.get("/api/programs")).status_code == 401


async def test_a_callback_with_another_state_is_refused(
    sso: Org, provider: oidc_provider.StandIn
) -> None:
    provider.user = {"email": "ana@acme.test", "groups": ["staff"]}
    page = await _sign_in(sso, state="forged-state")
    assert page.status_code == 400
    assert "state does not match" in page.text
    assert provider.verifiers_checked == 0  # refused before the code was ever exchanged


async def test_the_provider_checks_the_pkce_verifier(
    sso: Org, provider: oidc_provider.StandIn
) -> None:
    provider.user = {"email": "ana@acme.test", "groups": ["staff"]}
    started = await sso.client.get("/sign-in/oidc", headers=HTML)
    async with httpx.AsyncClient() as browser:
        back = urlsplit((await browser.get(started.headers["location"])).headers["location"])
    # Another challenge on the provider's side: the verifier this browser's sign-in
    # holds no longer matches it.
    code = dict(p.split("=", 1) for p in back.query.split("&"))["code"]
    provider.codes[code]["challenge"] = "A" * 43
    page = await sso.client.get(f"{back.path}?{back.query}", headers=HTML)
    assert page.status_code == 401
    assert provider.refused == ["PKCE verifier does not match the challenge"]


async def test_a_callback_without_a_started_sign_in_is_refused(sso: Org) -> None:
    page = await sso.client.get("/sign-in/oidc/callback?code=x&state=y", headers=HTML)
    assert page.status_code == 400
    assert "not started here" in page.text


async def test_the_sign_in_page_offers_the_provider(sso: Org) -> None:
    page = await sso.client.get("/sign-in?next=/portfolio", headers=HTML)
    assert 'href="/sign-in/oidc?next=/portfolio">Sign in with Acme login</a>' in page.text


async def test_the_client_secret_never_leaves(sso: Org, provider: oidc_provider.StandIn) -> None:
    provider.user = {"email": "ana@acme.test", "groups": ["pmo"]}
    provider.tamper = {"aud": "x"}
    answers = [await _sign_in(sso)]
    provider.tamper = {}
    answers.append(await _sign_in(sso))
    answers.append(await sso.client.get("/api/audit"))
    for answer in answers:
        assert oidc_provider.CLIENT_SECRET not in answer.text
        assert oidc_provider.CLIENT_SECRET not in str(answer.headers)
