"""Subscriptions in the admin: a list for searching across event types.

Attaching, editing and detaching are done on System notifications, and the Channels pages
show delivery health and send tests: both are project pages (``webhooks_project/admin/``).
What this page saves or deletes goes through the same services (``channels.services``),
which record it in the audit trail.
"""

from django.contrib import admin

from channels.models import Subscription
from channels.services import attach_channel, detach_channel, update_subscription
from common.admin import ServiceAuditedAdminMixin


@admin.register(Subscription)
class SubscriptionAdmin(ServiceAuditedAdminMixin, admin.ModelAdmin):
    """Attachments are managed from System notifications; this list is for searching across types."""

    list_display = ["event_type", "channel", "source_admin", "source_shop", "source_funnel", "active"]
    list_filter = ["active", "channel"]
    list_select_related = ["channel"]
    search_fields = ["event_type__key", "channel__name"]
    raw_id_fields = ["channel"]
    autocomplete_fields = ["event_type"]
    show_facets = admin.ShowFacets.NEVER

    def get_readonly_fields(self, request, obj=None):
        # As over the API: another type or channel is another subscription (detach, attach again).
        return ["event_type", "channel"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        if change:
            update_subscription(subscription=obj, sources=obj.sources, active=obj.active, user=request.user)
        else:
            attached = attach_channel(
                event_type=obj.event_type,
                channel=obj.channel,
                sources=obj.sources,
                active=obj.active,
                user=request.user,
            )
            obj.pk = attached.pk  # the admin logs and links to its own instance

    def delete_model(self, request, obj):
        detach_channel(subscription=obj, user=request.user)

    def delete_queryset(self, request, queryset):
        for subscription in queryset:
            detach_channel(subscription=subscription, user=request.user)
