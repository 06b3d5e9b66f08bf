from django.contrib import admin

from events.models import Event, EventType


@admin.register(EventType)
class EventTypeAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "category", "availability", "enabled", "manual_retry", "postback_only"]
    list_filter = ["category", "availability", "enabled"]
    search_fields = ["key", "name"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "type", "source", "order_ref", "occurred_at"]
    raw_id_fields = ["triggered_by"]
    show_full_result_count = False
