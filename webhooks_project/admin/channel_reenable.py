"""Re-enabling a channel the platform disabled, in one click on its page (SPEC section 10).

A mixin of ``ChannelAdmin`` (``UserAdmin``'s pattern: a route before the defaults, ``admin_view``,
the service's permission, POST with CSRF, a message, a redirect). The message offers the
recover form from the time the channel was disabled.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext

from channels.models import Channel
from deliveries.alerting.reenable import REENABLE, reenable_channel
from deliveries.templatetags.operations_status import recover_since_url
from webhooks_project.templatetags.staff_format import exact_time


class ReenableChannelMixin:
    def get_urls(self):
        return [
            path(
                "<int:channel_id>/reenable/",
                self.admin_site.admin_view(self.reenable_view),
                name="channels_channel_reenable",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_reenable": REENABLE.allows(request.user)}
        return super().change_view(request, object_id, form_url, extra_context)

    def reenable_view(self, request, channel_id):
        if not REENABLE.allows(request.user):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        channel = get_object_or_404(Channel, pk=channel_id)
        if not reenable_channel(actor=request.user, channel=channel):
            self.message_user(
                request, gettext("Channel “%(name)s” was already active.") % {"name": channel.name}, messages.INFO
            )
        elif channel.disabled_at:
            message = format_html(
                gettext(
                    'Channel “{}” is active again. <a href="{}" id="recover-since-disabled">Recover what failed '
                    "since it was disabled</a> ({})."
                ),
                channel.name,
                recover_since_url(channel),
                exact_time(channel.disabled_at),
            )
            self.message_user(request, message, messages.SUCCESS)
        else:
            self.message_user(
                request, gettext("Channel “%(name)s” is active again.") % {"name": channel.name}, messages.SUCCESS
            )
        return HttpResponseRedirect(reverse("admin:channels_channel_change", args=[channel.pk]))
