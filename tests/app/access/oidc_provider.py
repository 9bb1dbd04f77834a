"""A small OpenID Connect provider for the sign-in tests, served over real HTTP.

It publishes a discovery document and its JWKS, answers the authorization endpoint with
a code for whoever the test says is signing in, and at the token endpoint checks the
client's secret, the redirect URI and the PKCE verifier (S256) before it issues an
RS256-signed ID token. ``tamper`` changes the next ID token's claims (a wrong audience, an
expiry in the past, another nonce) so the tests can see each one refused.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID = "throughline"
CLIENT_SECRET = "oidc-client-5ecret-0009"
KEY = RSAKey.generate_key(2048, parameters={"kid": "stand-in-1", "use": "sig"})


@dataclass
class StandIn:
    issuer: str = ""
    user: dict[str, Any] = field(default_factory=dict)
    tamper: dict[str, Any] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    verifiers_checked: int = 0
    refused: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize),
                Route("/token", self.token, methods=["POST"]),
            ]
        )

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
        )

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [KEY.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        assert q["response_type"] == "code"
        assert q["client_id"] == CLIENT_ID
        assert q["code_challenge_method"] == "S256"
        assert "openid" in q["scope"].split()
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": q["code_challenge"],
            "nonce": q["nonce"],
            "redirect_uri": q["redirect_uri"],
        }
        target = f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}"
        return RedirectResponse(target, status_code=302)

    def _refuse(self, why: str) -> Response:
        self.refused.append(why)
        return JSONResponse({"error": "invalid_grant", "error_description": why}, status_code=400)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        issued = self.codes.pop(str(form.get("code")), None)
        if issued is None:
            return self._refuse("unknown code")
        if form.get("redirect_uri") != issued["redirect_uri"]:
            return self._refuse("redirect_uri differs")
        verifier = str(form.get("code_verifier") or "")
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        if challenge != issued["challenge"]:
            return self._refuse("PKCE verifier does not match the challenge")
        self.verifiers_checked += 1
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.user.get("sub", "user-1"),
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": issued["nonce"],
            **{k: v for k, v in self.user.items() if k != "sub"},
            **self.tamper,
        }
        id_token = jwt.encode({"alg": "RS256", "kid": KEY.kid}, claims, KEY)
        return JSONResponse(
            {
                "access_token": secrets.token_urlsafe(24),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": id_token,
            }
        )
