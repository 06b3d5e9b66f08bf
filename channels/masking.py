"""Custom header values shown and logged masked (SPEC section 6).

A channel's custom headers usually carry credentials (``Authorization``, ``X-Api-Key``, or
any name a receiver chose), so every custom value is a secret, whatever its name:

- ``mask_custom_headers`` for the attempt log: the headers sent, with every custom value masked;
- ``headers_for`` for the API and the admin: the values in clear only for users who may reveal;
- ``keep_masked_values`` when a form or a PATCH sends back the masked values it was shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from channels.permissions import REVEAL
from common.masking import MASK, mask_values


def mask_custom_headers(custom: Mapping, sent: Mapping) -> dict:
    """``sent`` (the request's headers) with the value of every header named in ``custom`` masked.

    Names compare case-insensitively, as HTTP does. The envelope's own headers (content type,
    user agent, the Standard Webhooks id, timestamp and signature) stay readable.
    """
    custom_names = {str(name).lower() for name in custom}
    return {name: (MASK if str(name).lower() in custom_names else value) for name, value in sent.items()}


def may_reveal(user) -> bool:
    """May ``user`` see custom header values (and a channel's signing secret) in clear?"""
    return user is not None and REVEAL.allows(user)


def headers_for(headers: Mapping | None, *, user) -> dict:
    """A channel's custom headers as ``user`` may see them: in clear with the reveal permission, else masked."""
    headers = dict(headers or {})
    return headers if may_reveal(user) else mask_values(headers)


def keep_masked_values(submitted, stored: Mapping | None):
    """``submitted`` headers with each value still equal to the mask replaced by the stored value of that name.

    A user who may not reveal is shown masked values; sending them back unchanged keeps the
    credentials instead of overwriting them with the mask. Anything not a mapping is returned
    as it is, for validation to refuse.
    """
    if not isinstance(submitted, Mapping):
        return submitted
    stored = dict(stored or {})
    return {name: stored[name] if value == MASK and name in stored else value for name, value in submitted.items()}
