"""The audit trail page: every recorded change, filterable by kind of object, action, user and date.

The entries are Django's admin ``LogEntry`` rows, written by the services (``common.audit``)
for the admin and the API alike. Read-only, like the other logs; superusers (and anyone
given ``admin.view_logentry``) see it.
"""

from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from common.admin import EstimatedCountPaginator, ReadOnlyAdminMixin


@admin.register(LogEntry)
class AuditTrailAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["action_time", "user", "object_type", "object_link", "action_flag", "what"]
    list_filter = [
        ("content_type", admin.RelatedOnlyFieldListFilter),
        "action_flag",
        ("user", admin.RelatedOnlyFieldListFilter),
        ("action_time", admin.DateFieldListFilter),
    ]
    list_select_related = ["user", "content_type"]
    search_fields = ["object_repr", "change_message", "=object_id"]
    search_help_text = _("Object (e.g. a channel's name or an event type's key), or words of the change.")
    ordering = ["-action_time", "-id"]
    date_hierarchy = "action_time"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = ["action_time", "user", "content_type", "object_id", "object_repr", "action_flag", "change_message"]
    readonly_fields = fields

    @admin.display(description=_("Kind"))
    def object_type(self, entry):
        return entry.content_type.name if entry.content_type_id else "-"

    @admin.display(description=_("Object"))
    def object_link(self, entry):
        url = entry.get_admin_url() if entry.action_flag != DELETION else None  # a deleted object has no page
        if url:
            return format_html('<a href="{}">{}</a>', url, entry.object_repr)
        return entry.object_repr

    @admin.display(description=_("what"))
    def what(self, entry):
        return entry.get_change_message() or str(entry)
