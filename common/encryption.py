"""Encryption at rest (SPEC section 6): Fernet tokens under the keys of ``FIELD_ENCRYPTION_KEYS``.

The first key encrypts; every key decrypts (``MultiFernet``), so a new key is put first,
``manage.py reencrypt_secrets`` rewrites every value under it, and the old key is then
removed (docs/SECURITY.md). The fields that use this are in ``common.fields``.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = ["InvalidToken", "decrypt", "encrypt", "parse_keys", "development_key"]


def parse_keys(value: str | list[str]) -> list[str]:
    """The keys of ``FIELD_ENCRYPTION_KEYS`` (comma-separated, or a list), each checked to be a Fernet key."""
    keys = [k.strip() for k in (value.split(",") if isinstance(value, str) else value) if k and k.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key (32 url-safe base64-encoded bytes; "
                'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())")'
            ) from exc
    return keys


def development_key(secret_key: str) -> str:
    """A key derived from ``SECRET_KEY``, used only with DEBUG on when no key is configured."""
    digest = hashlib.sha256(f"postbacks field encryption:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: no key to encrypt or decrypt secrets with.")
    return MultiFernet([Fernet(k) for k in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    """A Fernet token (ASCII) for ``plaintext``, under the first key."""
    return _current().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plaintext of ``token``; raises ``InvalidToken`` when no configured key opens it."""
    return _opened(tuple(settings.FIELD_ENCRYPTION_KEYS), token)


@lru_cache(maxsize=4096)
def _opened(keys: tuple[str, ...], token: str) -> str:
    # A token always opens to the same plaintext, under the same keys: the delivery engine loads
    # each busy channel (its secret, earlier secrets and headers) on every claim, and opening
    # the tokens again each time was a tenth of a claim's cost. Failures are not cached (raised).
    return _fernet(keys).decrypt(token.encode("ascii")).decode()
