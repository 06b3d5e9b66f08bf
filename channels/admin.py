from django.contrib import admin

from channels.models import Channel, Subscription


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "url", "active"]
    list_filter = ["kind", "active"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["event_type", "channel", "source_admin", "source_shop", "source_funnel", "active"]
