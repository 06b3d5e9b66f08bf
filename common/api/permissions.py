"""API permissions: Django model permissions, view permission required to read."""

from rest_framework.permissions import DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Django model permissions, with the ``view`` permission required to read.

    DRF's class lets any authenticated user read. Extra actions (``POST channels/{id}/test/``,
    ``POST deliveries/{id}/retry/``...) declare their own permissions on the viewset in
    ``action_permissions = {"action_name": ["app.codename", ...]}``; the method's default
    (add/change) is not what they need. The services check again (``common.permissions``).
    """

    perms_map = {
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "POST": ["%(app_label)s.add_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
        "PATCH": ["%(app_label)s.change_%(model_name)s"],
        "DELETE": ["%(app_label)s.delete_%(model_name)s"],
    }

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        action_perms = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if action_perms is not None:
            return request.user.has_perms(action_perms)
        return super().has_permission(request, view)
