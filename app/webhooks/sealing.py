"""Sealing secrets a tracker hands over (Asana's ``X-Hook-Secret``) before they are stored.

Fernet (AES-128-CBC with HMAC-SHA256) keyed from the operator's
``THROUGHLINE_WEBHOOKS__SECRET_KEY``: a copy of the database alone does not reveal the
secrets, and a sealed value that was tampered with does not open.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken


class SealError(RuntimeError):
    """No key is configured, or a sealed value does not open with it."""


class Sealer:
    """Seals and opens secrets with a key derived from the configured passphrase."""

    def __init__(self, passphrase: str | None) -> None:
        self._fernet = (
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(passphrase.encode()).digest()))
            if passphrase
            else None
        )

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, secret: str) -> str:
        if self._fernet is None:
            raise SealError("THROUGHLINE_WEBHOOKS__SECRET_KEY is not set")
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        if self._fernet is None:
            raise SealError("THROUGHLINE_WEBHOOKS__SECRET_KEY is not set")
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SealError(
                "a stored webhook secret does not open with the configured key"
            ) from None
