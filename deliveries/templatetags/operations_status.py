"""The admin's banner of channels disabled automatically, the dashboard's open alerts, the recover link.

Template tags, like ``delivery_dashboard``, so the stock ``admin.site`` stays in use: the banner
is in ``templates/admin/base_site.html`` (every admin page), the alerts in
``templates/admin/includes/open_alerts.html``.
"""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from deliveries.alerting import selectors
from deliveries.alerting.selectors import BANNER_CHANNELS

register = template.Library()


def _staff(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    return user if user is not None and user.is_active and user.is_staff else None


@register.inclusion_tag("admin/includes/disabled_channels_banner.html", takes_context=True)
def disabled_channels_banner(context):
    """Shown to staff on every admin page while a channel disabled automatically waits for someone to act."""
    channels = selectors.auto_disabled_channels() if _staff(context) else []
    return {"channels": channels[:BANNER_CHANNELS], "more": len(channels) > BANNER_CHANNELS}


@register.inclusion_tag("admin/includes/open_alerts_list.html", takes_context=True)
def open_alerts(context):
    user = _staff(context)
    visible = user is not None and user.has_perm("deliveries.view_delivery")
    return {"visible": visible, "alerts": selectors.open_alerts() if visible else []}


@register.simple_tag
def recover_since_url(channel) -> str:
    """The recover form, from when the channel was disabled; without it, the channel's failed deliveries."""
    since = channel.disabled_at.isoformat() if channel.disabled_at else ""
    try:
        return reverse("admin:channels_channel_recover", args=[channel.pk]) + "?" + urlencode({"since": since})
    except NoReverseMatch:
        query = {"channel__id__exact": channel.pk, "status__exact": "failed"}
        return reverse("admin:deliveries_delivery_changelist") + "?" + urlencode(query)
