"""The delivery log: read-only, filterable, fast on millions of rows, with manual retry.

Log admins are read-only (``django_q/admin.py``): no add, every field read-only, an
action to resubmit. The retry itself is the service's (``deliveries.services``); this
module only asks it and reports what it said.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from channels.models import Channel, Subscription
from common.admin import EstimatedCountPaginator, ReadOnlyAdminMixin, safe_next_url
from deliveries.models import Attempt, Delivery, DeliveryStatus, DemoReceipt
from deliveries.recovery import RESEND, resend_event
from deliveries.selectors import attempt_request_body
from deliveries.services import RETRY, RetryReport, retry_deliveries
from events.models import Event, Source
from events.selectors import order_ids_by_ref


def retry_and_report(modeladmin, request, deliveries) -> RetryReport:
    """Ask for a manual retry of each delivery (``retry_deliveries``, which records each one queued in
    the audit trail) and tell the user how many were queued and why others were skipped. The Orders
    page uses it too."""
    report = retry_deliveries(deliveries=deliveries, user=request.user)
    if report.limited_to:
        modeladmin.message_user(
            request,
            f"Only the first {report.limited_to} deliveries were considered; run the action again for the rest.",
            messages.WARNING,
        )
    queued, skipped = len(report.queued), report.skipped
    if queued:
        modeladmin.message_user(
            request, f"Retry requested for {queued} deliver{'y' if queued == 1 else 'ies'}.", messages.SUCCESS
        )
    if skipped:
        details = "; ".join(f"{n} × {reason}" for reason, n in skipped.most_common())
        modeladmin.message_user(request, f"Skipped {sum(skipped.values())}: {details}", messages.WARNING)
    if not queued and not skipped:
        modeladmin.message_user(request, "Nothing to retry.", messages.INFO)
    return report


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return Source.choices

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


class SelectRelatedFilter(admin.RelatedFieldListFilter):
    """The event-type filter as a drop-down: the catalogue has some seventy types."""

    template = "admin/includes/select_filter.html"


class AttemptInline(admin.StackedInline):
    model = Attempt
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["number"]
    fields = [
        ("number", "trigger", "triggered_by", "started_at", "duration_ms"),
        ("response_status", "error", "error_detail"),
        "request_url",
        "request_headers",
        "request_body",
        "response_headers",
        "response_body",
    ]
    readonly_fields = [f for row in fields for f in (row if isinstance(row, tuple) else (row,))]

    @admin.display(description="Request body")
    def request_body(self, attempt):
        return attempt_request_body(attempt)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related(
                "triggered_by", "delivery__event__triggered_by", "delivery__channel", "delivery__event_type"
            )
        )


class DeliveryChangeList(ChangeList):
    """Links each shown delivery to its order's page, with one query for the whole page."""

    def get_results(self, request):
        super().get_results(request)
        order_ids = order_ids_by_ref(d.event.order_ref for d in self.result_list)
        for delivery in self.result_list:
            delivery.order_pk = order_ids.get(delivery.event.order_ref)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "created",
        "event_type_key",
        "channel",
        "status_badge",
        "attempts",
        "last_http_status",
        "order_link",
    ]
    list_display_links = ["id"]
    # Plain related filters list the catalogue and the channels (small tables); no facets, no DISTINCT over deliveries.
    list_filter = [
        "status",
        ("event_type", SelectRelatedFilter),
        "channel",
        SourceFilter,
        ("created_at", admin.DateFieldListFilter),
    ]
    list_select_related = ["channel", "event"]
    search_fields = ["=id"]  # enables the search box; get_search_results decides what a term means
    search_help_text = "Delivery id, event id (UUID) or order reference (exact)."
    ordering = ["-id"]
    sortable_by = []
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    actions = ["retry_selected"]
    inlines = [AttemptInline]
    fields = [
        ("event", "event_type", "source"),
        ("channel", "subscription"),
        ("status", "attempt_count", "automatic_attempts"),
        ("next_attempt_at", "pending_trigger", "requested_by"),
        ("last_error", "last_response_status"),
        "failure_reason",
        ("created_at", "updated_at", "completed_at"),
    ]
    readonly_fields = [f for row in fields for f in (row if isinstance(row, tuple) else (row,))]

    def get_changelist(self, request, **kwargs):
        return DeliveryChangeList

    def get_queryset(self, request):
        # The event's payload can be large and is not shown in the list.
        return super().get_queryset(request).defer("event__payload")

    def get_search_results(self, request, queryset, search_term):
        """One exact, indexed lookup chosen by the term's shape (no LIKE/UPPER scans of millions of rows)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(pk=int(term)), False
        try:
            return queryset.filter(event_id=uuid.UUID(term)), False
        except ValueError:
            return queryset.filter(event__order_ref=term), False

    def has_retry_permission(self, request):
        return RETRY.allows(request.user)

    # --- columns -------------------------------------------------------------

    @admin.display(description="created (UTC)")
    def created(self, delivery):
        return f"{delivery.created_at:%Y-%m-%d %H:%M:%S}"

    @admin.display(description="event type")
    def event_type_key(self, delivery):
        return delivery.event_type_id

    @admin.display(description="attempts")
    def attempts(self, delivery):
        return delivery.attempt_count

    @admin.display(description="HTTP")
    def last_http_status(self, delivery):
        return delivery.last_response_status or delivery.get_last_error_display() or "-"

    @admin.display(description="status")
    def status_badge(self, delivery):
        return format_html(
            '<span class="status-badge status-{}">{}</span>', delivery.status, delivery.get_status_display()
        )

    @admin.display(description="order")
    def order_link(self, delivery):
        ref = delivery.event.order_ref
        if not ref:
            return "-"
        order_id = getattr(delivery, "order_pk", None)
        if order_id is None:
            url = reverse("admin:events_order_changelist") + "?" + urlencode({"q": ref})
        else:
            url = reverse("admin:events_order_change", args=[order_id])
        return format_html('<a href="{}">{}</a>', url, ref)

    # --- retry ---------------------------------------------------------------

    @admin.action(description="Retry selected failed deliveries", permissions=["retry"])
    def retry_selected(self, request, queryset):
        retry_and_report(self, request, queryset.select_related("event_type", "channel").order_by("-id"))

    def get_urls(self):
        return [
            path(
                "<int:delivery_id>/retry/",
                self.admin_site.admin_view(self.retry_view),
                name="deliveries_delivery_retry",
            ),
            path(
                "resend/<uuid:event_id>/",
                self.admin_site.admin_view(self.resend_view),
                name="deliveries_delivery_resend",
            ),
            *super().get_urls(),
        ]

    def retry_view(self, request, delivery_id):
        """The Retry button of the order and delivery pages. Goes back to ``next`` when it is one of ours."""
        if not self.has_retry_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        delivery = get_object_or_404(Delivery.objects.select_related("event_type", "channel"), pk=delivery_id)
        retry_and_report(self, request, Delivery.objects.filter(pk=delivery.pk).select_related("event_type", "channel"))
        next_url = safe_next_url(request, request.POST.get("next", ""))
        return HttpResponseRedirect(next_url or reverse("admin:deliveries_delivery_change", args=[delivery.pk]))

    def resend_view(self, request, event_id):
        """Resend an event to one channel of its type (event, delivery and order pages link here)."""
        if not RESEND.allows(request.user):
            raise PermissionDenied
        event = get_object_or_404(Event.objects.select_related("type"), pk=event_id)
        error = None
        if request.method == "POST":
            given = request.POST.get("channel", "")
            channel = Channel.objects.filter(pk=int(given)).first() if given.isdigit() and len(given) < 10 else None
            try:
                if channel is None:
                    raise ValidationError({"channel": ["Choose a channel."]})
                delivery = resend_event(actor=request.user, event=event, channel=channel)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                self.message_user(request, f"Resent to {channel}: delivery #{delivery.pk} is queued.", messages.SUCCESS)
                next_url = safe_next_url(request, request.POST.get("next", ""))
                return HttpResponseRedirect(next_url or reverse("admin:deliveries_delivery_change", args=[delivery.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Resend event {event.pk}",
            "event": event,
            "subscriptions": Subscription.objects.filter(event_type_id=event.type_id).select_related("channel"),
            "error": error,
            "next": safe_next_url(request, request.GET.get("next", "") or request.POST.get("next", "")) or "",
        }
        return TemplateResponse(request, "admin/deliveries/delivery/resend.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_retry"] = self.has_retry_permission(request)
        extra_context["can_resend"] = RESEND.allows(request.user)
        delivery = (
            Delivery.objects.select_related("event_type")
            .filter(pk=object_id if str(object_id).isdigit() else None)
            .first()
        )
        extra_context["retry_allowed"] = bool(
            delivery and delivery.status == DeliveryStatus.FAILED and delivery.event_type.manual_retry
        )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(DemoReceipt)
class DemoReceiptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the built-in demo receiver (``make run``'s "Demo receiver" channel) was sent."""

    list_display = ["received_at", "event_type", "webhook_id", "signature_valid"]
    list_filter = ["signature_valid"]
    fields = ["received_at", "event_type", "webhook_id", "signature_valid", "headers", "body"]
    readonly_fields = fields
    paginator = EstimatedCountPaginator
    show_full_result_count = False
