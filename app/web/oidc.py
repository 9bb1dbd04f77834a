"""Sign-in through an OpenID Connect provider: the authorization code flow with PKCE.

Authlib does the protocol: it reads the provider's discovery document, builds the
authorization URL with a state, a nonce and an S256 code challenge, exchanges the code
(with the verifier and the client secret) and checks the ID token — its RS256 signature
against the provider's JWKS, its issuer, audience, expiry and nonce. What is ours: the
pending sign-in (state, verifier, nonce and where to return) travels in a short-lived
cookie signed with a key derived from the client secret, so any replica can finish it;
and the claims map to a role and groups (``OidcConfig``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    # Authlib 1.9 prefers the "httpx2" distribution and warns on every start when it falls
    # back to httpx, which it still fully supports; the warning tells an operator nothing.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.starlette_client import OAuth

from app.config import OidcConfig, resolve_secret
from app.web.auth import Principal, Role

PENDING_COOKIE = "throughline_oidc"
PENDING_SECONDS = 600
"""How long a person has at the provider before the sign-in must start again."""
SESSION_MARK = "identity provider"
"""Stands in a session for the token fingerprint a provider's sign-in has none of."""


class SignInFailed(Exception):
    """The provider's answer cannot be trusted or gives no access; the message says why
    in plain words (never a secret or a token)."""


@dataclass(frozen=True, slots=True)
class Pending:
    state: str
    verifier: str
    nonce: str
    next_url: str
    redirect_uri: str
    expires: float


class Provider:
    """One configured provider: starts sign-ins and finishes them into a principal."""

    def __init__(self, config: OidcConfig, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        secret = resolve_secret(config.client_secret_env, environ).get_secret_value()
        self._key = hashlib.sha256(b"throughline sign-in state\0" + secret.encode()).digest()
        registry = OAuth()
        self._client: Any = registry.register(
            name="oidc",
            client_id=config.client_id,
            client_secret=secret,
            server_metadata_url=f"{config.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": " ".join(config.scopes),
                "code_challenge_method": "S256",
                "timeout": 15.0,
            },
        )

    async def _metadata(self) -> dict[str, Any]:
        try:
            metadata: dict[str, Any] = await self._client.load_server_metadata()
        except Exception as exc:
            raise SignInFailed(f"The identity provider could not be reached ({exc}).") from None
        if str(metadata.get("issuer", "")).rstrip("/") != self.config.issuer.rstrip("/"):
            raise SignInFailed("The identity provider's discovery names another issuer.")
        return metadata

    async def start(self, *, redirect_uri: str, next_url: str) -> tuple[str, str]:
        """The provider's authorization URL, and the signed pending sign-in for the cookie."""
        await self._metadata()
        found = await self._client.create_authorization_url(redirect_uri)
        pending = Pending(
            state=found["state"],
            verifier=found["code_verifier"],
            nonce=found["nonce"],
            next_url=next_url,
            redirect_uri=redirect_uri,
            expires=time.time() + PENDING_SECONDS,
        )
        return found["url"], self._seal(pending)

    async def finish(self, *, sealed: str | None, state: str | None, code: str | None) -> Principal:
        """The person the provider signed in, after every check; ``SignInFailed`` else."""
        pending = self.unseal(sealed)
        if pending is None:
            raise SignInFailed("This sign-in was not started here, or took too long.")
        if not state or not hmac.compare_digest(state.encode(), pending.state.encode()):
            raise SignInFailed("The sign-in's state does not match the one this browser started.")
        if not code:
            raise SignInFailed("The identity provider sent no authorization code.")
        issuer = str((await self._metadata())["issuer"])
        try:
            token = await self._client.fetch_access_token(
                redirect_uri=pending.redirect_uri, code=code, code_verifier=pending.verifier
            )
        except Exception as exc:
            raise SignInFailed(f"The identity provider refused the code ({_why(exc)}).") from None
        if "id_token" not in token:
            raise SignInFailed("The identity provider sent no ID token.")
        try:
            claims = await self._client.parse_id_token(
                token,
                nonce=pending.nonce,
                # Authlib checks the audience only when told to: the ID token must name
                # this client (an azp naming it is not enough), and come from the issuer.
                claims_options={
                    "iss": {"essential": True, "values": [issuer]},
                    "aud": {"essential": True, "values": [self.config.client_id]},
                },
                leeway=60,
            )
        except Exception as exc:
            raise SignInFailed(f"The ID token is not valid ({_why(exc)}).") from None
        return self.principal(dict(claims))

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        """Who the claims describe: name (e-mail, else username, else subject), role and
        groups; ``SignInFailed`` when their groups give no access."""
        groups = frozenset(_groups(claims, self.config.groups_claim))
        name = str(claims.get("email") or claims.get("preferred_username") or claims["sub"])
        if groups & set(self.config.admin_groups):
            role = Role.ADMIN
        elif not self.config.viewer_groups or groups & set(self.config.viewer_groups):
            role = Role.VIEWER
        else:
            raise SignInFailed(
                f"{name} is signed in, but none of their groups may use Throughline."
            )
        return Principal(name, role, groups)

    def next_url(self, sealed: str | None) -> str:
        pending = self.unseal(sealed)
        return pending.next_url if pending is not None else "/"

    def _seal(self, pending: Pending) -> str:
        body = base64.urlsafe_b64encode(
            json.dumps(
                [
                    pending.state,
                    pending.verifier,
                    pending.nonce,
                    pending.next_url,
                    pending.redirect_uri,
                    pending.expires,
                ]
            ).encode()
        ).decode()
        return f"{body}.{self._sign(body)}"

    def unseal(self, sealed: str | None) -> Pending | None:
        """The pending sign-in a cookie holds, if this server signed it and it is fresh."""
        if not sealed or len(sealed) > 4096 or "." not in sealed:
            return None
        body, _, signature = sealed.rpartition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            return None
        try:
            state, verifier, nonce, next_url, redirect_uri, expires = json.loads(
                base64.urlsafe_b64decode(body)
            )
        except (binascii.Error, ValueError, TypeError):
            return None
        if not isinstance(expires, int | float) or expires < time.time():
            return None
        return Pending(
            str(state), str(verifier), str(nonce), str(next_url), str(redirect_uri), expires
        )

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()


def _groups(claims: Mapping[str, Any], path: str) -> list[str]:
    value: Any = claims
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [str(v) for v in value]
    return []


def _why(exc: Exception) -> str:
    """A short reason from Authlib's or joserfc's error (they never carry a secret)."""
    reason = getattr(exc, "description", None) or getattr(exc, "error", None) or str(exc)
    return str(reason)[:200] or type(exc).__name__
