"""Model fields whose values are encrypted in the database (``common.encryption``).

The column holds a Fernet token (text); Python code sees the plain value. An empty string
is stored as it is, so "no secret" can still be asked for in a query (``secret=""``); any
other lookup on these columns is meaningless (tokens are randomised) and is refused.
"""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from common.encryption import InvalidToken, decrypt, encrypt

_ALLOWED_LOOKUPS = {"exact", "isnull"}


class UndecryptableValue(ImproperlyConfigured):
    """A stored value that no key of ``FIELD_ENCRYPTION_KEYS`` opens."""


def _open(token: str, field) -> str:
    try:
        return decrypt(token)
    except (InvalidToken, ValueError, UnicodeError) as exc:
        raise UndecryptableValue(
            f"{field.model.__name__}.{field.name}: a stored value cannot be decrypted with any key of "
            "FIELD_ENCRYPTION_KEYS (was a key removed before `manage.py reencrypt_secrets` ran?)"
        ) from exc


class _EncryptedMixin:
    def get_lookup(self, lookup_name):
        if lookup_name not in _ALLOWED_LOOKUPS:
            return None  # Django answers "Unsupported lookup" instead of comparing tokens
        return super().get_lookup(lookup_name)

    def get_internal_type(self):
        return "TextField"


class EncryptedTextField(_EncryptedMixin, models.TextField):
    """A string, encrypted at rest."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return _open(value, self)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedJSONField(_EncryptedMixin, models.TextField):
    """A JSON value (custom headers: an object of strings), encrypted at rest as one token.

    One token for the whole object, names and values together: header names can say which
    services a merchant holds credentials for, and one token per row leaves no half-encrypted state.
    """

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return json.loads(_open(value, self))

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return value
        return encrypt(json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))

    def formfield(self, **kwargs):
        return super(models.TextField, self).formfield(**{"form_class": forms.JSONField, **kwargs})
