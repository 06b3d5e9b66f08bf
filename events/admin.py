"""The read-only log of events (the delivery log is the Deliveries page).

The catalogue's page (System notifications) and the Orders view show deliveries and
channels too, so they are staff pages of the whole project: ``webhooks_project/admin/``.
"""

import uuid

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from common.admin import EstimatedCountPaginator, ReadOnlyAdminMixin
from events.models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only log of events (the delivery log is the Deliveries page)."""

    list_display = ["id", "type", "source", "order_ref", "occurred_at", "created_at"]
    list_filter = ["source"]
    search_fields = ["=order_ref"]  # enables the search box; get_search_results decides what a term means
    search_help_text = _("Event id (UUID) or order reference (exact).")
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
