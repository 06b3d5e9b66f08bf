"""Staff pages for the catalogue ("System notifications"), events and orders.

System notifications (seed 004): the catalogue grouped by category with an on/off
switch per type; a type's page lists its channels with their sources, and lets staff
attach a channel, edit a subscription's sources or delete it. Orders: the orders events
refer to, newest first; an order's page is its timeline with a Retry per failed delivery.

Extra routes follow ``django/contrib/auth/admin.py::UserAdmin``: added in ``get_urls()``
before the defaults, wrapped in ``admin_site.admin_view``, a permission check, then
``log_change``, a message and a redirect. Side effects only on POST (CSRF-checked).
"""

import uuid
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from channels.models import Channel, ChannelKind, Subscription
from channels.services import attach_channel, set_event_type_enabled, update_subscription
from common.admin import EstimatedCountPaginator, ReadOnlyAdminMixin
from events.models import Event, EventType, Order, Source
from events.selectors_admin import (
    catalogue_by_category,
    failed_deliveries_of_order,
    order_summaries,
    order_timeline,
    subscriptions_of,
)


def _add_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, by field where the form has that field."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


class SourcesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        super().__init__(
            choices=Source.choices,
            error_messages={"required": "Choose at least one source (admin, shop, funnel)."},
            help_text="Notify only for events that happened on these sources.",
            **kwargs,
        )


class AttachChannelForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.none(), empty_label="Choose a channel")
    sources = SourcesField()

    def __init__(self, *args, event_type: EventType, **kwargs):
        super().__init__(*args, **kwargs)
        channels = Channel.objects.exclude(subscriptions__event_type=event_type).order_by("name", "id")
        if event_type.postback_only:
            channels = channels.filter(kind=ChannelKind.POSTBACK)
        self.fields["channel"].queryset = channels
        self.fields["channel"].label_from_instance = lambda c: f"{c.name} ({c.get_kind_display()})"


class EditSubscriptionForm(forms.Form):
    sources = SourcesField()
    active = forms.BooleanField(required=False, help_text="Inactive attachments send nothing.")


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    """The catalogue as "System notifications"; the catalogue itself is fixed (no add/delete)."""

    list_display = ["key", "name", "category", "availability", "enabled"]
    search_fields = ["key", "name"]  # for autocomplete_fields elsewhere
    fields = ["key", "name", "category", "description", "availability", "enabled", "manual_retry", "postback_only"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<str:key>/toggle/", wrap(self.toggle_view), name="events_eventtype_toggle"),
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

    # --- the catalogue page ------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "System notifications",
            "categories": catalogue_by_category(),
            "can_toggle": self.has_change_permission(request),
            "can_enable_on_demand": request.user.has_perm("events.enable_on_demand"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/events/eventtype/system_notifications.html", context)

    @staticmethod
    def _wants_json(request) -> bool:
        return "application/json" in request.headers.get("Accept", "")

    def toggle_view(self, request, key):
        """Switch a type on or off. Answers JSON to the page's fetch(), else redirects back."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        event_type = get_object_or_404(EventType, key=key)
        if not self.has_change_permission(request, event_type):
            raise PermissionDenied
        enabled = request.POST.get("enabled")
        if enabled not in ("on", "off"):
            message = "Say enabled=on or enabled=off."
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
        state = "on" if event_type.enabled else "off"
        self.log_change(request, event_type, f"Switched {state}.")
        if self._wants_json(request):
            return JsonResponse({"key": event_type.key, "enabled": event_type.enabled})
        self.message_user(request, f"{event_type.name} switched {state}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:events_eventtype_changelist") + f"#type-{event_type.key}")

    # --- one type: its channels --------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event_type = get_object_or_404(EventType, key=unquote(object_id))
        if not self.has_view_or_change_permission(request, event_type):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": event_type.name,
            "event_type": event_type,
            "subscriptions": subscriptions_of(event_type=event_type),
            "can_toggle": self.has_change_permission(request, event_type),
            "can_enable_on_demand": request.user.has_perm("events.enable_on_demand"),
            "can_attach": request.user.has_perm("channels.add_subscription"),
            "can_edit": request.user.has_perm("channels.change_subscription"),
            "can_delete": request.user.has_perm("channels.delete_subscription"),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/events/eventtype/channels.html", context)

    def _type_page(self, event_type) -> str:
        return reverse("admin:events_eventtype_change", args=[event_type.key])

    def attach_view(self, request, key):
        event_type = get_object_or_404(EventType, key=key)
        if not request.user.has_perm("channels.add_subscription"):
            raise PermissionDenied
        if request.method == "POST":
            form = AttachChannelForm(request.POST, event_type=event_type)
            if form.is_valid():
                try:
                    with transaction.atomic():
                        subscription = attach_channel(
                            event_type=event_type,
                            channel=form.cleaned_data["channel"],
                            sources=form.cleaned_data["sources"],
                        )
                except ValidationError as exc:
                    _add_errors(form, exc)
                else:
                    self.log_change(
                        request,
                        event_type,
                        f"Attached channel {subscription.channel} ({', '.join(subscription.sources)}).",
                    )
                    self.message_user(
                        request,
                        f"Channel “{subscription.channel}” was attached to {event_type.name}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._type_page(event_type))
        else:
            # Coming back from "create a new channel": it is preselected.
            form = AttachChannelForm(
                initial={"channel": request.GET.get("channel"), "sources": Source.values}, event_type=event_type
            )
        create_url = None
        if request.user.has_perm("channels.add_channel"):
            params = {"next": request.path}
            if event_type.postback_only:
                params["kind"] = ChannelKind.POSTBACK
            create_url = reverse("admin:channels_channel_add") + "?" + urlencode(params)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Attach a channel to {event_type.name}",
            "event_type": event_type,
            "form": form,
            "create_channel_url": create_url,
        }
        return TemplateResponse(request, "admin/events/eventtype/attach.html", context)

    def _subscription(self, key, subscription_id) -> Subscription:
        return get_object_or_404(
            Subscription.objects.select_related("channel", "event_type"), pk=subscription_id, event_type_id=key
        )

    def edit_subscription_view(self, request, key, subscription_id):
        subscription = self._subscription(key, subscription_id)
        if not request.user.has_perm("channels.change_subscription"):
            raise PermissionDenied
        event_type = subscription.event_type
        if request.method == "POST":
            form = EditSubscriptionForm(request.POST)
            if form.is_valid():
                try:
                    with transaction.atomic():
                        update_subscription(
                            subscription=subscription,
                            sources=form.cleaned_data["sources"],
                            active=form.cleaned_data["active"],
                        )
                except ValidationError as exc:
                    _add_errors(form, exc)
                else:
                    self.log_change(
                        request,
                        event_type,
                        f"Changed sources of {subscription.channel} to {', '.join(subscription.sources)}.",
                    )
                    self.message_user(request, f"Sources of “{subscription.channel}” were updated.", messages.SUCCESS)
                    return HttpResponseRedirect(self._type_page(event_type))
        else:
            form = EditSubscriptionForm(initial={"sources": subscription.sources, "active": subscription.active})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Edit {subscription.channel} on {event_type.name}",
            "event_type": event_type,
            "subscription": subscription,
            "form": form,
        }
        return TemplateResponse(request, "admin/events/eventtype/edit_subscription.html", context)

    def delete_subscription_view(self, request, key, subscription_id):
        subscription = self._subscription(key, subscription_id)
        if not request.user.has_perm("channels.delete_subscription"):
            raise PermissionDenied
        event_type = subscription.event_type
        if request.method == "POST":
            channel_name = str(subscription.channel)
            subscription.delete()
            self.log_change(request, event_type, f"Detached channel {channel_name}.")
            self.message_user(
                request, f"Channel “{channel_name}” was removed from {event_type.name}.", messages.SUCCESS
            )
            return HttpResponseRedirect(self._type_page(event_type))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Are you sure?",
            "event_type": event_type,
            "subscription": subscription,
        }
        return TemplateResponse(request, "admin/events/eventtype/delete_subscription.html", context)


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only log of events (the delivery log is the Deliveries page)."""

    list_display = ["id", "type", "source", "order_ref", "occurred_at", "created_at"]
    list_filter = ["source"]
    search_fields = ["=order_ref"]  # enables the search box; get_search_results decides what a term means
    search_help_text = "Event id (UUID) or order reference (exact)."
    readonly_fields = ["id", "type", "source", "occurred_at", "created_at", "payload", "order_ref", "triggered_by"]
    fields = readonly_fields
    ordering = ["-created_at"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = []
    list_select_related = []

    def get_queryset(self, request):
        return super().get_queryset(request).defer("payload")

    def get_search_results(self, request, queryset, search_term):
        """One exact, indexed lookup (no UPPER/LIKE scan over millions of events)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            return queryset.filter(order_ref=term), False


class OrderChangeList(ChangeList):
    """Adds each shown order's event / delivery / failure counts, in two queries for the page."""

    def get_results(self, request):
        super().get_results(request)
        summaries = order_summaries(refs=[o.ref for o in self.result_list])
        for order in self.result_list:
            order.summary = summaries.get(order.ref)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Orders events referred to, newest first; an order's page is its timeline."""

    list_display = ["ref", "last_event_at", "first_event_at", "events", "deliveries", "failed"]
    list_display_links = ["ref"]
    search_fields = ["^ref"]
    search_help_text = "Order reference, or its beginning."
    ordering = ["-last_event_at", "-id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = []

    def get_changelist(self, request, **kwargs):
        return OrderChangeList

    @admin.display(description="events")
    def events(self, order):
        return order.summary.events if getattr(order, "summary", None) else "-"

    @admin.display(description="deliveries")
    def deliveries(self, order):
        return order.summary.deliveries if getattr(order, "summary", None) else "-"

    @admin.display(description="failed")
    def failed(self, order):
        summary = getattr(order, "summary", None)
        if not summary or not summary.failed:
            return 0
        return format_html('<span class="status-badge status-failed">{}</span>', summary.failed)

    def get_urls(self):
        return [
            path(
                "<int:order_id>/retry-failed/",
                self.admin_site.admin_view(self.retry_failed_view),
                name="events_order_retry_failed",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = get_object_or_404(Order, pk=unquote(object_id)) if str(object_id).isdigit() else None
        if order is None:
            return HttpResponseRedirect(reverse("admin:events_order_changelist"))
        if not self.has_view_permission(request, order):
            raise PermissionDenied
        from deliveries.models import DeliveryStatus

        timeline = order_timeline(order_ref=order.ref)
        can_retry = request.user.has_perm("deliveries.retry_delivery")
        retryable = [
            d
            for entry in timeline
            for d in entry.deliveries
            if d.status == DeliveryStatus.FAILED and d.event_type.manual_retry
        ]
        # Refresh the page while a delivery moved in the last two minutes (e.g. a Retry just pressed),
        # not forever for one stuck behind a stopped worker.
        recently = timezone.now() - timedelta(minutes=2)
        in_progress = any(
            d.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING) and d.updated_at >= recently
            for entry in timeline
            for d in entry.deliveries
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Order {order.ref}",
            "order": order,
            "timeline": timeline,
            "can_retry": can_retry,
            "retryable_count": len(retryable),
            "in_progress": in_progress,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/events/order/timeline.html", context)

    def retry_failed_view(self, request, order_id):
        """ "Retry all failed": a manual retry of every failed delivery of the order that allows one."""
        from deliveries.admin import retry_deliveries

        order = get_object_or_404(Order, pk=order_id)
        if not request.user.has_perm("deliveries.retry_delivery"):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        retry_deliveries(self, request, failed_deliveries_of_order(order_ref=order.ref))
        return HttpResponseRedirect(reverse("admin:events_order_change", args=[order.pk]))
