"""The audit trail (SPEC section 6): who changed what, and when, from the admin or the API.

Entries are Django's admin ``LogEntry`` rows, so an object's History page in the admin lists
them, and the Audit trail page (``webhooks_project/admin/audit.py``) lists them all. The
services write them (``record``), whichever door the user came in by, with messages that
name what changed but never hold a secret or a header value: header names only, URLs with
their query values masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType

from common.masking import mask_query_strings

__all__ = ["ADDITION", "CHANGE", "DELETION", "audit_page_url", "describe_changes", "history_of", "record"]


def record(*, user, obj, message: str, action: int = CHANGE) -> LogEntry | None:
    """Write one entry for ``obj`` by ``user``. The platform's own code (``user=None``) is not audited."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return LogEntry.objects.create(
        user_id=user.pk,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        action_flag=action,
        change_message=message,
    )


def history_of(obj, *, limit: int = 10):
    """The latest entries about ``obj``, newest first, with their users."""
    return (
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False), object_id=str(obj.pk)
        )
        .select_related("user")
        .order_by("-action_time")[:limit]
    )


def audit_page_url(*, obj=None, search: str = "") -> str:
    """The audit trail page, filtered to ``obj``'s entries, or to those matching ``search``."""
    from django.urls import reverse
    from django.utils.http import urlencode

    if obj is not None:
        content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        params = {"content_type__id__exact": content_type.pk, "object_id": str(obj.pk)}
    else:
        params = {"q": search}
    return reverse("admin:admin_logentry_changelist") + "?" + urlencode(params)


def _shown(value) -> str:
    if isinstance(value, str):
        return repr(mask_query_strings(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return repr(value)


def _mapping_changes(name: str, old: Mapping, new: Mapping) -> str | None:
    """What changed in a mapping of secrets (custom headers), by key only: never a value."""
    old_keys, new_keys = {k.lower(): k for k in old}, {k.lower(): k for k in new}
    parts = []
    added = [new_keys[k] for k in new_keys if k not in old_keys]
    removed = [old_keys[k] for k in old_keys if k not in new_keys]
    changed = [new_keys[k] for k in new_keys if k in old_keys and old[old_keys[k]] != new[new_keys[k]]]
    for label, keys in (("added", added), ("removed", removed), ("value changed", changed)):
        if keys:
            parts.append(f"{label} {', '.join(sorted(keys))}")
    return f"{name}: {'; '.join(parts)}" if parts else None


def describe_changes(before: Mapping, after: Mapping, *, secret_mappings: Iterable[str] = ()) -> str:
    """ "Changed name from 'a' to 'b'; headers: added X-Api-Key." for the keys whose values differ.

    Fields named in ``secret_mappings`` are mappings of secret values (custom headers): only
    which keys were added, removed or changed is told.
    """
    secret_mappings = set(secret_mappings)
    parts = []
    for field, new in after.items():
        old = before.get(field)
        if old == new:
            continue
        if field in secret_mappings:
            described = _mapping_changes(field, dict(old or {}), dict(new or {}))
            if described:
                parts.append(described)
        else:
            parts.append(f"{field} from {_shown(old)} to {_shown(new)}")
    return ("Changed " + "; ".join(parts) + ".") if parts else "Saved with no change."
