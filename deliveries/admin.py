"""The delivery log: read-only, filterable, fast on millions of rows, with manual retry.

Log admins are read-only (``django_q/admin.py``): no add, every field read-only, an
action to resubmit. The retry itself is the service's (``deliveries.services``); this
module only asks it and reports what it said.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.models import Channel, Subscription
from common.admin import EstimatedCountPaginator, ReadOnlyAdminMixin, safe_next_url
from common.timefmt import staff_time_html
from deliveries.engine.refusals import retry_refusal_reason
from deliveries.explain import status_line
from deliveries.models import Delivery, DeliveryStatus, DemoReceipt
from deliveries.recovery import RESEND, resend_event
from deliveries.selectors import delivery_page_attempts
from deliveries.services import RETRY, RETRY_BATCH_LIMIT, RetryReport, retry_deliveries
from events.models import Event, Source
from events.selectors import order_ids_by_ref


def retry_and_report(modeladmin, request, deliveries) -> RetryReport:
    """Ask for a manual retry of each delivery (``retry_deliveries``, which records each one queued in
    the audit trail) and say what happened in one short, grouped line ("3 queued for retry; 5 skipped
    because they already succeeded"). The Orders page uses it too."""
    batch = list(deliveries[: RETRY_BATCH_LIMIT + 1])
    report = retry_deliveries(deliveries=batch, user=request.user)
    if report.limited_to:
        modeladmin.message_user(
            request,
            _("Only the first %(n)d deliveries were considered; run the action again for the rest.")
            % {"n": report.limited_to},
            messages.WARNING,
        )
        batch = batch[: report.limited_to]
    queued_ids = {d.pk for d in report.queued}
    parts = []
    if report.queued:
        parts.append(_("%(n)d queued for retry") % {"n": len(report.queued)})
    skipped = [d for d in batch if d.pk not in queued_ids]
    if len(batch) == 1 and skipped:
        # One delivery (its Retry button): the service's own words say exactly why not.
        reason = retry_refusal_reason(delivery=skipped[0], user=request.user)
        if reason:
            modeladmin.message_user(request, reason, messages.WARNING)
            return report
    parts += skipped_summary(skipped, user=request.user)
    if not parts:
        modeladmin.message_user(request, _("Nothing to retry."), messages.INFO)
    else:
        level = messages.SUCCESS if report.queued else messages.WARNING
        modeladmin.message_user(request, "; ".join(parts) + ".", level)
    return report


def skipped_summary(skipped, *, user) -> list[str]:
    """The deliveries a retry passed over, grouped by why, largest group first."""
    groups: dict[str, int] = {}
    for delivery in skipped:
        if delivery.status == DeliveryStatus.SUCCEEDED:
            why = _("because they already succeeded")
        elif delivery.status in (DeliveryStatus.PENDING, DeliveryStatus.SENDING):
            why = _("because they are still being delivered")
        elif not delivery.event_type.manual_retry:
            why = _("because their event type does not allow a manual retry")
        else:
            why = retry_refusal_reason(delivery=delivery, user=user) or _("because they changed meanwhile")
            why = f"({why.rstrip('.')})"
        groups[why] = groups.get(why, 0) + 1
    ordered = sorted(groups.items(), key=lambda item: -item[1])
    return [_("%(n)d skipped %(why)s") % {"n": n, "why": why} for why, n in ordered]


class TestSendFilter(admin.SimpleListFilter):
    """Test sends are out of the log unless asked for: they are not the shop's traffic."""

    title = gettext_lazy("test sends")
    parameter_name = "tests"

    def lookups(self, request, model_admin):
        return [("include", gettext_lazy("Included")), ("only", gettext_lazy("Only test sends"))]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": _("Hidden"),
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        # A search names one delivery, event or order: find it, test send or not.
        if self.value() == "include" or request.GET.get("q", "").strip():
            return queryset
        if self.value() == "only":
            return queryset.filter(is_test=True)
        return queryset.filter(is_test=False)


class SourceFilter(admin.SimpleListFilter):
    title = gettext_lazy("source")
    parameter_name = "source"

    def lookups(self, request, model_admin):
        return Source.choices

    def queryset(self, request, queryset):
        return queryset.filter(source=self.value()) if self.value() else queryset


class SelectRelatedFilter(admin.RelatedFieldListFilter):
    """The event-type filter as a drop-down: the catalogue has some seventy types."""

    template = "admin/includes/select_filter.html"


class DeliveryChangeList(ChangeList):
    """Links each shown delivery to its order's page, with one query for the whole page."""

    def get_results(self, request):
        super().get_results(request)
        order_ids = order_ids_by_ref(d.event.order_ref for d in self.result_list)
        for delivery in self.result_list:
            delivery.order_pk = order_ids.get(delivery.event.order_ref)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Few, narrow columns that wrap: the log fits 1024 px beside its filters (SPEC section 7).
    list_display = ["id", "created", "what", "status_badge", "order_link"]
    list_display_links = ["id"]
    # Plain related filters list the catalogue and the channels (small tables); no facets, no DISTINCT over deliveries.
    list_filter = [
        "status",
        ("event_type", SelectRelatedFilter),
        "channel",
        SourceFilter,
        ("created_at", admin.DateFieldListFilter),
        TestSendFilter,
    ]
    # The breaker (a one-to-one, at most one row per channel) says whether a pending row waits for a cool-off.
    list_select_related = ["channel", "channel__breaker", "event"]
    search_fields = ["=id"]  # enables the search box; get_search_results decides what a term means
    search_help_text = gettext_lazy("Delivery id, event id (UUID) or order reference (exact).")
    ordering = ["-id"]
    sortable_by = []
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    actions = ["retry_selected"]
    change_form_template = "admin/deliveries/delivery/change_form.html"
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

    @admin.display(description=gettext_lazy("created"))
    def created(self, delivery):
        return staff_time_html(delivery.created_at)

    @admin.display(description=gettext_lazy("event and channel"))
    def what(self, delivery):
        # A test send is marked where the log shows it (the "test sends" filter's Included / Only).
        test = format_html(' <span class="badge badge-test">{}</span>', _("Test")) if delivery.is_test else ""
        return format_html(
            '<span class="log-event">{}</span>{}<br><span class="quiet log-channel">{}</span>',
            delivery.event_type_id,
            test,
            delivery.channel.name,
        )

    @admin.display(description=gettext_lazy("status"))
    def status_badge(self, delivery):
        line = status_line(delivery, breaker=_breaker_of(delivery.channel))
        extra = ""
        if line.reason and line.tone != "failed":
            extra = format_html('<br><span class="quiet">{} {}</span>', _("Last attempt:"), line.reason)
        return format_html('<span class="status-badge status-{}">{}</span>{}', line.tone, line.text, extra)

    @admin.display(description=gettext_lazy("order"))
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

    @admin.action(description=gettext_lazy("Retry selected failed deliveries"), permissions=["retry"])
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
            Delivery.objects.select_related(
                "event_type", "channel", "channel__breaker", "event__triggered_by", "requested_by", "subscription"
            )
            .filter(pk=object_id if str(object_id).isdigit() else None)
            .first()
        )
        if delivery is not None:
            line = status_line(delivery, breaker=_breaker_of(delivery.channel))
            extra_context.update(
                {
                    "delivery": delivery,
                    "status_line": line,
                    "attempts": delivery_page_attempts(delivery=delivery),
                    "subtitle": None,  # the title already names it
                    "title": _("Delivery #%(id)d: %(name)s to %(channel)s")
                    % {"id": delivery.pk, "name": delivery.event_type.local_name, "channel": delivery.channel.name},
                }
            )
        extra_context["retry_allowed"] = bool(
            delivery
            and delivery.status == DeliveryStatus.FAILED
            and delivery.event_type.manual_retry
            and not delivery.is_test
        )
        return super().change_view(request, object_id, form_url, extra_context)


def _breaker_of(channel):
    try:
        return channel.breaker
    except ObjectDoesNotExist:
        return None


@admin.register(DemoReceipt)
class DemoReceiptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the built-in demo receiver (``make run``'s "Demo receiver" channel) was sent."""

    list_display = ["received_at", "event_type", "webhook_id", "signature_valid"]
    list_filter = ["signature_valid"]
    fields = ["received_at", "event_type", "webhook_id", "signature_valid", "headers", "body"]
    readonly_fields = fields
    paginator = EstimatedCountPaginator
    show_full_result_count = False
