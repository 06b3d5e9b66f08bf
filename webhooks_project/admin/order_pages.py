"""Orders (SPEC section 7): the orders events refer to, newest first; an order's page is its
timeline of events and deliveries, with a Retry per failed delivery and "Retry all failed".
"""

from datetime import timedelta

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from common.admin import EstimatedCountPaginator, ReadOnlyAdminMixin
from deliveries.admin import retry_and_report
from deliveries.explain import attempt_reason, status_line, status_phrase
from deliveries.models import DeliveryStatus
from deliveries.selectors import failed_deliveries_of_order, order_summaries, order_timeline
from deliveries.services import RETRY
from events.models import Order


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

    list_display = ["order_ref", "last_event", "first_event", "events", "deliveries", "failed"]
    list_display_links = ["order_ref"]
    search_fields = ["^ref"]
    search_help_text = _("Order reference, or its beginning.")
    ordering = ["-last_event_at", "-id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    sortable_by = []

    def get_changelist(self, request, **kwargs):
        return OrderChangeList

    @admin.display(description=_("Order"))
    def order_ref(self, order):
        return order.ref

    @admin.display(description=_("Last event"))
    def last_event(self, order):
        return order.last_event_at

    @admin.display(description=_("First event"))
    def first_event(self, order):
        return order.first_event_at

    @admin.display(description=_("Events"))
    def events(self, order):
        return order.summary.events if getattr(order, "summary", None) else "-"

    @admin.display(description=_("Deliveries"))
    def deliveries(self, order):
        return order.summary.deliveries if getattr(order, "summary", None) else "-"

    @admin.display(description=_("Failed"))
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
        timeline = order_timeline(order_ref=order.ref)
        deliveries = [d for entry in timeline for d in entry.deliveries]
        for delivery in deliveries:
            delivery.status_line = status_line(delivery)
            for attempt in delivery.attempts.all():
                # "HTTP 404 Not Found" where the endpoint answered, else why not in words (never the exception's text).
                if attempt.response_status:
                    attempt.outcome = f"HTTP {status_phrase(attempt.response_status)}"
                else:
                    attempt.outcome = attempt_reason(attempt, timeout_s=delivery.channel.timeout) or _("Sent")
        retryable = [d for d in deliveries if d.status == DeliveryStatus.FAILED and d.event_type.manual_retry]
        # Refresh the page while a delivery moved in the last two minutes (e.g. a Retry just pressed),
        # not forever for one stuck behind a stopped worker.
        recently = timezone.now() - timedelta(minutes=2)
        in_progress = any(
            d.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING) and d.updated_at >= recently
            for d in deliveries
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Order %(ref)s") % {"ref": order.ref},
            "order": order,
            "timeline": timeline,
            "can_retry": RETRY.allows(request.user),
            "retryable_count": len(retryable),
            "in_progress": in_progress,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/events/order/timeline.html", context)

    def retry_failed_view(self, request, order_id):
        """ "Retry all failed": a manual retry of every failed delivery of the order that allows one."""
        order = get_object_or_404(Order, pk=order_id)
        if not RETRY.allows(request.user):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        retry_and_report(self, request, failed_deliveries_of_order(order_ref=order.ref))
        return HttpResponseRedirect(reverse("admin:events_order_change", args=[order.pk]))
