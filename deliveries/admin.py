from django.contrib import admin

from deliveries.models import Delivery


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "channel", "status", "attempt_count", "next_attempt_at"]
    list_filter = ["status"]
    raw_id_fields = ["event", "subscription", "channel"]
    show_full_result_count = False
