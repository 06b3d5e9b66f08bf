"""System notifications (seed 004's flow, SPEC section 7).

The catalogue grouped by category with an on/off switch per type; a type's page lists
its channels with their sources, and lets staff attach a channel, edit a subscription's
sources or delete it. Every change goes through a service (``events.services``,
``channels.services``), which checks the same permission the page does and records the
change in the audit trail (shown at the foot of the type's page).

Extra routes follow ``django/contrib/auth/admin.py::UserAdmin``: added in ``get_urls()``
before the defaults, wrapped in ``admin_site.admin_view``, a permission check, then a
message and a redirect. Side effects only on POST (CSRF-checked).
"""

from types import SimpleNamespace

from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.utils.translation import gettext

from channels.kinds import ChannelKind
from channels.models import Subscription
from channels.selectors import catalogue_by_category, subscriptions_of
from channels.services import (
    ATTACH_PERMISSION,
    CREATE_PERMISSION,
    DETACH_PERMISSION,
    EDIT_ATTACHMENT_PERMISSION,
    attach_channel,
    detach_channel,
    update_subscription,
)
from common.admin import ServiceAuditedAdminMixin, add_form_errors
from common.audit import audit_page_url
from events.models import Availability, EventType, Source
from events.services import ENABLE_ON_DEMAND, TOGGLE, set_event_type_critical, set_event_type_enabled
from webhooks_project.admin.subscription_forms import AttachChannelForm, EditSubscriptionForm


def audit_entries_of(event_type: EventType, *, limit: int = 10):
    """The latest audit entries of a type: its switch, and its subscriptions (attached, edited, detached)."""
    types = ContentType.objects.get_for_models(EventType, Subscription)
    return (
        LogEntry.objects.filter(
            Q(content_type=types[EventType], object_id=event_type.pk)
            | Q(content_type=types[Subscription], object_repr__startswith=f"{event_type.pk} → ")
        )
        .select_related("user")
        .order_by("-action_time")[:limit]
    )


def catalogue_filters(params) -> dict:
    """The catalogue page's filters from its query string; unknown values are ignored."""
    availability = params.get("availability", "")
    filters = {
        "q": params.get("q", "").strip()[:200],
        "enabled": params.get("enabled") == "1",
        "availability": availability if availability in Availability.values else "",
    }
    filters["active"] = bool(filters["q"] or filters["enabled"] or filters["availability"])
    return filters


def filter_catalogue(categories, *, q: str = "", enabled: bool = False, availability: str = ""):
    """The categories with only the types that match; empty categories dropped.

    The search looks at the key, and the name and description in English and in the active
    language, case-insensitively; every word must match. Each category gets ``label`` (its name in
    the active language) and ``slug`` (the jump list's anchor).
    """
    words = q.casefold().split()
    shown = []
    for category in categories:
        types = [
            t
            for t in category.event_types
            if (not enabled or t.enabled)
            and (not availability or t.availability == availability)
            and all(w in _searchable(t) for w in words)
        ]
        if types:
            shown.append(
                SimpleNamespace(
                    name=category.name, label=gettext(category.name), slug=slugify(category.name), event_types=types
                )
            )
    return shown


def _searchable(event_type) -> str:
    return " ".join(
        (
            event_type.key,
            event_type.name,
            event_type.local_name,
            event_type.description,
            event_type.local_description,
        )
    ).casefold()


@admin.register(EventType)
class EventTypeAdmin(ServiceAuditedAdminMixin, admin.ModelAdmin):
    """The catalogue as "System notifications"; the catalogue itself is fixed (no add/delete)."""

    list_display = ["key", "name", "category", "availability", "enabled"]
    search_fields = ["key", "name"]  # for autocomplete_fields elsewhere
    fields = [
        "key",
        "name",
        "category",
        "description",
        "availability",
        "enabled",
        "critical",
        "manual_retry",
        "postback_only",
    ]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<str:key>/toggle/", wrap(self.toggle_view), name="events_eventtype_toggle"),
            path("<str:key>/critical/", wrap(self.critical_view), name="events_eventtype_critical"),
            path("<str:key>/attach/", wrap(self.attach_view), name="events_eventtype_attach"),
            path(
                "<str:key>/subscriptions/<int:subscription_id>/edit/",
                wrap(self.edit_subscription_view),
                name="events_eventtype_edit_subscription",
            ),
            path(
                "<str:key>/subscriptions/<int:subscription_id>/delete/",
                wrap(self.delete_subscription_view),
                name="events_eventtype_delete_subscription",
            ),
            *super().get_urls(),
        ]

    def _page(self, request, template: str, title: str, **context):
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": title, **context}
        return TemplateResponse(request, f"admin/events/eventtype/{template}", context)

    # --- the catalogue page ------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        categories = catalogue_by_category()
        filters = catalogue_filters(request.GET)
        shown = filter_catalogue(categories, **{k: filters[k] for k in ("q", "enabled", "availability")})
        return self._page(
            request,
            "system_notifications.html",
            gettext("System notifications"),
            categories=shown,
            filters=filters,
            availability_choices=Availability.choices,
            total_count=sum(len(c.event_types) for c in categories),
            shown_count=sum(len(c.event_types) for c in shown),
            can_toggle=TOGGLE.allows(request.user),
            can_enable_on_demand=ENABLE_ON_DEMAND.allows(request.user),
            **(extra_context or {}),
        )

    @staticmethod
    def _wants_json(request) -> bool:
        return "application/json" in request.headers.get("Accept", "")

    def toggle_view(self, request, key):
        """Switch a type on or off. Answers JSON to the page's fetch(), else redirects back."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        event_type = get_object_or_404(EventType, key=key)
        if not TOGGLE.allows(request.user):
            raise PermissionDenied
        enabled = request.POST.get("enabled")
        if enabled not in ("on", "off"):
            message = gettext("Say enabled=on or enabled=off.")
            if self._wants_json(request):
                return JsonResponse({"error": message}, status=400)
            self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:events_eventtype_changelist"))
        try:
            set_event_type_enabled(event_type=event_type, enabled=enabled == "on", user=request.user)
        except PermissionDenied as exc:
            if self._wants_json(request):
                return JsonResponse({"error": str(exc)}, status=403)
            raise
        if self._wants_json(request):
            return JsonResponse({"key": event_type.key, "enabled": event_type.enabled})
        if event_type.enabled:
            message = gettext("%(name)s switched on.") % {"name": event_type.local_name}
        else:
            message = gettext("%(name)s switched off.") % {"name": event_type.local_name}
        self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:events_eventtype_changelist") + f"#type-{event_type.key}")

    def critical_view(self, request, key):
        """Mark a type critical (its undelivered deliveries raise alerts) or not."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        event_type = get_object_or_404(EventType, key=key)
        if not TOGGLE.allows(request.user):
            raise PermissionDenied
        critical = request.POST.get("critical")
        if critical not in ("on", "off"):
            self.message_user(request, gettext("Say critical=on or critical=off."), messages.ERROR)
        else:
            set_event_type_critical(event_type=event_type, critical=critical == "on", user=request.user)
            if event_type.critical:
                message = gettext("%(name)s is critical.") % {"name": event_type.local_name}
            else:
                message = gettext("%(name)s is not critical.") % {"name": event_type.local_name}
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(self._type_page(event_type))

    # --- one type: its channels --------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event_type = get_object_or_404(EventType, key=unquote(object_id))
        if not self.has_view_or_change_permission(request, event_type):
            raise PermissionDenied
        user = request.user
        return self._page(
            request,
            "channels.html",
            event_type.local_name,
            event_type=event_type,
            subscriptions=subscriptions_of(event_type=event_type),
            can_toggle=TOGGLE.allows(user),
            can_enable_on_demand=ENABLE_ON_DEMAND.allows(user),
            audit_entries=audit_entries_of(event_type),
            audit_link=audit_page_url(search=event_type.key),
            can_attach=user.has_perm(ATTACH_PERMISSION),
            can_edit=user.has_perm(EDIT_ATTACHMENT_PERMISSION),
            can_delete=user.has_perm(DETACH_PERMISSION),
            **(extra_context or {}),
        )

    def _type_page(self, event_type) -> str:
        return reverse("admin:events_eventtype_change", args=[event_type.key])

    def attach_view(self, request, key):
        event_type = get_object_or_404(EventType, key=key)
        if not request.user.has_perm(ATTACH_PERMISSION):
            raise PermissionDenied
        if request.method == "POST":
            form = AttachChannelForm(request.POST, event_type=event_type)
            if form.is_valid():
                try:
                    subscription = attach_channel(
                        event_type=event_type,
                        channel=form.cleaned_data["channel"],
                        sources=form.cleaned_data["sources"],
                        user=request.user,
                    )
                except ValidationError as exc:
                    add_form_errors(form, exc)
                else:
                    channel = subscription.channel
                    message = gettext("Channel “%(channel)s” was attached to %(name)s.")
                    self.message_user(
                        request, message % {"channel": channel, "name": event_type.local_name}, messages.SUCCESS
                    )
                    return HttpResponseRedirect(self._type_page(event_type))
        else:
            # Coming back from "create a new channel": it is preselected.
            form = AttachChannelForm(
                initial={"channel": request.GET.get("channel"), "sources": Source.values}, event_type=event_type
            )
        return self._page(
            request,
            "attach.html",
            gettext("Attach a channel to %(name)s") % {"name": event_type.local_name},
            event_type=event_type,
            form=form,
            create_channel_url=self._create_channel_url(request, event_type),
        )

    def _create_channel_url(self, request, event_type) -> str | None:
        """The "create a new channel" link of the attach form, which comes back here with it."""
        if not request.user.has_perm(CREATE_PERMISSION):
            return None
        params = {"next": request.path}
        if event_type.postback_only:
            params["kind"] = ChannelKind.POSTBACK
        return reverse("admin:channels_channel_add") + "?" + urlencode(params)

    def _subscription(self, key, subscription_id) -> Subscription:
        return get_object_or_404(
            Subscription.objects.select_related("channel", "event_type"), pk=subscription_id, event_type_id=key
        )

    def edit_subscription_view(self, request, key, subscription_id):
        subscription = self._subscription(key, subscription_id)
        if not request.user.has_perm(EDIT_ATTACHMENT_PERMISSION):
            raise PermissionDenied
        event_type = subscription.event_type
        if request.method == "POST":
            form = EditSubscriptionForm(request.POST)
            if form.is_valid():
                try:
                    update_subscription(
                        subscription=subscription,
                        sources=form.cleaned_data["sources"],
                        active=form.cleaned_data["active"],
                        user=request.user,
                    )
                except ValidationError as exc:
                    add_form_errors(form, exc)
                else:
                    self.message_user(
                        request,
                        gettext("Sources of “%(channel)s” were updated.") % {"channel": subscription.channel},
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._type_page(event_type))
        else:
            form = EditSubscriptionForm(initial={"sources": subscription.sources, "active": subscription.active})
        return self._page(
            request,
            "edit_subscription.html",
            gettext("Edit %(channel)s on %(name)s") % {"channel": subscription.channel, "name": event_type.local_name},
            event_type=event_type,
            subscription=subscription,
            form=form,
        )

    def delete_subscription_view(self, request, key, subscription_id):
        subscription = self._subscription(key, subscription_id)
        if not request.user.has_perm(DETACH_PERMISSION):
            raise PermissionDenied
        event_type = subscription.event_type
        if request.method == "POST":
            channel_name = str(subscription.channel)
            detach_channel(subscription=subscription, user=request.user)
            message = gettext("Channel “%(channel)s” was removed from %(name)s.")
            self.message_user(
                request, message % {"channel": channel_name, "name": event_type.local_name}, messages.SUCCESS
            )
            return HttpResponseRedirect(self._type_page(event_type))
        return self._page(
            request,
            "delete_subscription.html",
            gettext("Are you sure?"),
            event_type=event_type,
            subscription=subscription,
        )
