"""Signing in and out, sessions, CSRF and the security headers, over HTTP in process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from app.config import ServerConfig, TokenConfig
from app.web.auth import TokenRegistry
from app.web.security import CONTENT_SECURITY_POLICY

ENV = {"T_VIEWER": "viewer-secret", "T_ADMIN": "admin-secret"}
NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)


def registry() -> TokenRegistry:
    server = ServerConfig(
        auth="tokens",
        tokens=(
            TokenConfig(name="pm-team", role="viewer", token_env="T_VIEWER"),
            TokenConfig(name="ops", role="admin", token_env="T_ADMIN"),
        ),
    )
    return TokenRegistry(server, ENV)


class TestSignInTokens:
    def test_a_valid_token_names_its_principal_and_a_fingerprint_not_the_token(self) -> None:
        found = registry().sign_in("admin-secret")
        assert found is not None
        principal, fingerprint = found
        assert principal.name == "ops"
        assert "admin-secret" not in fingerprint
        assert registry().for_session("ops", fingerprint) == principal

    def test_a_wrong_token_signs_nobody_in(self) -> None:
        assert registry().sign_in("guess") is None

    @pytest.mark.parametrize(
        ("name", "tamper"),
        [
            pytest.param("pm-team", lambda f: f, id="another-principal"),
            pytest.param("ops", lambda f: f[:-1] + ("0" if f[-1] != "0" else "1"), id="altered"),
            pytest.param("ops", lambda f: "", id="empty"),
            pytest.param("ops", lambda f: "ü" * 64, id="not-ascii"),
        ],
    )
    def test_a_session_matches_only_its_principal_and_token(
        self, name: str, tamper: object
    ) -> None:
        found = registry().sign_in("admin-secret")
        assert found is not None
        assert registry().for_session(name, tamper(found[1])) is None  # type: ignore[operator]

    def test_rotating_a_token_ends_its_sessions(self) -> None:
        found = registry().sign_in("viewer-secret")
        assert found is not None
        rotated = TokenRegistry(
            ServerConfig(
                auth="tokens",
                tokens=(TokenConfig(name="pm-team", role="viewer", token_env="T_VIEWER"),),
            ),
            {"T_VIEWER": "new-secret"},
        )
        assert rotated.for_session("pm-team", found[1]) is None


def _csrf(page: httpx.Response) -> str:
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


async def _sign_in(site: httpx.AsyncClient, token: str, next_url: str = "/") -> httpx.Response:
    form = await site.get(f"/sign-in?next={next_url}")
    return await site.post(
        "/sign-in", data={"token": token, "next": next_url, "csrf_token": _csrf(form)}
    )


async def test_pages_send_visitors_to_sign_in_and_back(secure_site: httpx.AsyncClient) -> None:
    response = await secure_site.get("/programs/checkout?x=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=/programs/checkout%3Fx%3D1"
    signed = await _sign_in(secure_site, "viewer-secret", "/programs/checkout")
    assert signed.status_code == 303
    assert signed.headers["location"] == "/programs/checkout"
    cookie = signed.headers["set-cookie"]
    assert "throughline_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "viewer-secret" not in cookie
    page = await secure_site.get("/programs/checkout")
    assert page.status_code == 200
    assert "Signed in as pm-team (viewer)" in page.text
    assert "Open access" not in page.text


async def test_a_wrong_token_is_refused_with_a_plain_message(
    secure_site: httpx.AsyncClient,
) -> None:
    response = await _sign_in(secure_site, "guess")
    assert response.status_code == 401
    assert "That token is not valid." in response.text
    assert (await secure_site.get("/")).status_code == 303


async def test_sign_in_only_returns_to_this_site(secure_site: httpx.AsyncClient) -> None:
    for target in ("//evil.test/x", "https://evil.test/", "/\\evil.test"):
        response = await _sign_in(secure_site, "viewer-secret", target)
        assert response.headers["location"] == "/"


async def test_sign_out_ends_the_session(secure_site: httpx.AsyncClient) -> None:
    await _sign_in(secure_site, "viewer-secret")
    confirm = await secure_site.get("/sign-out")
    out = await secure_site.post("/sign-out", data={"csrf_token": _csrf(confirm)})
    assert out.status_code == 303
    assert 'throughline_session=""' in out.headers["set-cookie"]
    assert (await secure_site.get("/")).status_code == 303


async def test_sign_out_ends_the_session_on_the_server_too(
    secure_site: httpx.AsyncClient,
) -> None:
    """A copy of the cookie (another tab, a stolen copy) is worthless after sign-out."""
    await _sign_in(secure_site, "viewer-secret")
    copied = secure_site.cookies["throughline_session"]
    assert (await secure_site.get("/api/programs")).status_code == 200
    confirm = await secure_site.get("/sign-out")
    await secure_site.post("/sign-out", data={"csrf_token": _csrf(confirm)})
    secure_site.cookies.set("throughline_session", copied)
    assert (await secure_site.get("/api/programs")).status_code == 401
    assert (await secure_site.get("/programs/checkout")).status_code == 303


async def test_a_session_cookie_the_server_never_issued_is_refused(
    secure_site: httpx.AsyncClient,
) -> None:
    secure_site.cookies.set("throughline_session", "made-up-" + "x" * 40)
    assert (await secure_site.get("/api/programs")).status_code == 401


async def test_wrong_tokens_are_throttled_per_address(
    app_factory: Callable[..., FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("T_VIEWER", "viewer-secret")
    monkeypatch.setenv("T_ADMIN", "admin-secret")
    app = app_factory(
        "server:\n  auth: tokens\n  tokens:\n"
        "    - {name: pm-team, role: viewer, token_env: T_VIEWER}\n",
        server={"failed_tokens_per_minute": 5},
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        wrong = [
            (await client.get("/api/programs", headers={"Authorization": f"Bearer guess-{n}"}))
            for n in range(5)
        ]
        assert [r.status_code for r in wrong] == [401] * 5
        blocked = await client.get(
            "/api/programs", headers={"Authorization": "Bearer viewer-secret"}
        )
        assert blocked.status_code == 429
        assert 0 < int(blocked.headers["retry-after"]) <= 60
        form = await client.get("/sign-in")
        refused = await client.post(
            "/sign-in", data={"token": "viewer-secret", "csrf_token": _csrf(form)}
        )
        assert refused.status_code == 429
        # Another address is not held back by this one's guesses.
        other = httpx.ASGITransport(app, client=("10.0.0.9", 1234))
        async with httpx.AsyncClient(transport=other, base_url="http://test") as elsewhere:
            fine = await elsewhere.get(
                "/api/programs", headers={"Authorization": "Bearer viewer-secret"}
            )
        assert fine.status_code == 200


async def test_a_viewer_cannot_use_admin_forms(secure_site: httpx.AsyncClient) -> None:
    await _sign_in(secure_site, "viewer-secret")
    risks = await secure_site.get("/programs/checkout/risks")
    assert "Add a risk" not in risks.text
    refused = await secure_site.post(
        "/programs/checkout/risks",
        data={"title": "x", "probability": "1", "impact": "1", "csrf_token": "x" * 43},
    )
    assert refused.status_code == 403
    assert "This needs the admin role; you are signed in as pm-team (viewer)." in refused.text


async def test_the_api_still_takes_bearer_tokens_and_sessions(
    secure_site: httpx.AsyncClient,
) -> None:
    assert (await secure_site.get("/api/programs")).status_code == 401
    headers = {"Authorization": "Bearer viewer-secret"}
    assert (await secure_site.get("/api/programs", headers=headers)).status_code == 200
    await _sign_in(secure_site, "viewer-secret")
    assert (await secure_site.get("/api/programs")).status_code == 200
    secure_site.cookies.set("throughline_token", "viewer-secret")
    secure_site.cookies.delete("throughline_session")
    assert (await secure_site.get("/api/programs")).status_code == 401, "no raw-token cookie"


class TestCsrf:
    async def test_a_form_without_the_token_is_refused(self, site: httpx.AsyncClient) -> None:
        await site.get("/programs/checkout/risks")
        response = await site.post(
            "/programs/checkout/risks", data={"title": "x", "probability": "1", "impact": "1"}
        )
        assert response.status_code == 403
        assert "security token is missing" in response.text

    async def test_a_form_from_another_site_is_refused(self, site: httpx.AsyncClient) -> None:
        page = await site.get("/programs/checkout/risks")
        response = await site.post(
            "/programs/checkout/risks",
            data={"title": "x", "probability": "1", "impact": "1", "csrf_token": _csrf(page)},
            headers={"Origin": "https://evil.test"},
        )
        assert response.status_code == 403
        assert "sent from https://evil.test" in response.text

    async def test_the_cookie_is_http_only_and_strict(self, site: httpx.AsyncClient) -> None:
        page = await site.get("/programs/checkout/risks")
        cookie = page.headers["set-cookie"]
        assert cookie.startswith("throughline_csrf=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie


@pytest.mark.parametrize(
    "path",
    ["/", "/programs/checkout", "/programs/checkout/risks", "/items", "/sign-in", "/nope"],
)
async def test_pages_carry_the_security_headers(site: httpx.AsyncClient, path: str) -> None:
    headers = (await site.get(path)).headers
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"


async def test_open_access_is_said_on_every_page(site: httpx.AsyncClient) -> None:
    for path in ("/", "/programs/checkout", "/items"):
        assert "server.auth: none" in (await site.get(path)).text


async def test_errors_are_pages_for_browsers_and_json_for_the_api(
    site: httpx.AsyncClient,
) -> None:
    page = await site.get("/programs/nope")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "There is no program &#39;nope&#39;." in page.text
    api = await site.get("/api/programs/nope")
    assert api.json() == {"detail": "There is no program 'nope'."}
    plain = await site.get("/nope", headers={"Accept": "application/json"})
    assert plain.json() == {"detail": "Not Found"}
