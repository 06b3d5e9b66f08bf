"""The one permission check the services share (the admin and the API both call the services)."""

from django.core.exceptions import PermissionDenied


def require_permission(user, permission: str, message: str = "You do not have permission to do this.") -> None:
    """Raise ``PermissionDenied`` unless ``user`` has ``permission``.

    ``user=None`` is the platform's own code acting for itself (a management command, a
    data fix, ``emit``): nobody to check. The admin and the API always pass the request's user.
    """
    if user is not None and not user.has_perm(permission):
        raise PermissionDenied(message)
