"""The one permission check the services share (the admin and the API both call the services).

Each action that is more than a model's add / change / delete (retry, test send, reveal,
rotate, on-demand switch; resend and recover to come) is an ``Action``: every permission it
needs, the view permission of its object included, and the words of its refusal. The
service calls ``action.require(user)``; the admin asks ``action.allows(user)`` to offer a
button and to answer 403; the API lists ``action.permissions`` in ``action_permissions``.
So the three can never disagree about who may do what.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied


def require_permission(user, permission: str, message: str = "You do not have permission to do this.") -> None:
    """Raise ``PermissionDenied`` unless ``user`` has ``permission``.

    ``user=None`` is the platform's own code acting for itself (a management command, a
    data fix, ``emit``): nobody to check. The admin and the API always pass the request's user.
    """
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(message)


@dataclass(frozen=True)
class Action:
    """A user action and every permission it needs (all of them), with the refusal to show."""

    name: str
    permissions: tuple[str, ...]
    refusal: str

    def allows(self, user) -> bool:
        """May ``user`` do this? (``None``, the platform's own code, may.)"""
        return user is None or (user.is_authenticated and user.has_perms(self.permissions))

    def require(self, user) -> None:
        """Raise ``PermissionDenied`` with the refusal unless ``user`` may do this."""
        if not self.allows(user):
            raise PermissionDenied(self.refusal)
