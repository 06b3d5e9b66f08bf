"""The admin index's dashboard: last 24 h by outcome per hour (server-rendered SVG), channel
success rates, and the failed deliveries waiting for a human.

A template tag rather than a custom AdminSite so the stock ``admin.site`` stays in use.
"""

from dataclasses import dataclass

from django import template
from django.utils.translation import gettext

from channels.models import Channel
from deliveries.explain import delivery_reason
from deliveries.selectors import channel_health, failed_awaiting_human, hourly_outcomes
from deliveries.services import RETRY
from events.selectors import order_ids_by_ref

register = template.Library()

CHART_WIDTH = 720
CHART_HEIGHT = 220
PLOT_TOP = 10
PLOT_BOTTOM = 190  # x-axis labels below
PLOT_LEFT = 40
COLOURS = {"succeeded": "#2e8540", "failed": "#c62828", "in_progress": "#9aa5b1"}


@dataclass
class Bar:
    x: float
    width: float
    segments: list  # (y, height, colour, label)
    label: str | None
    title: str


def _chart(hours) -> dict:
    peak = max((h.total for h in hours), default=0) or 1
    plot_height = PLOT_BOTTOM - PLOT_TOP
    slot = (CHART_WIDTH - PLOT_LEFT) / len(hours)
    bars = []
    for i, hour in enumerate(hours):
        y = PLOT_BOTTOM
        segments = []
        for name in ("succeeded", "failed", "in_progress"):
            value = getattr(hour, name)
            if value:
                height = value / peak * plot_height
                y -= height
                segments.append((round(y, 1), round(height, 1), COLOURS[name], name))
        bars.append(
            Bar(
                x=round(PLOT_LEFT + i * slot + 2, 1),
                width=round(slot - 4, 1),
                segments=segments,
                label=f"{hour.hour:%H}h" if i % 3 == 0 else None,
                title=gettext(
                    "%(hour)s:00 UTC: %(succeeded)d succeeded, %(failed)d failed, %(in_progress)d in progress"
                )
                % {
                    "hour": f"{hour.hour:%Y-%m-%d %H}",
                    "succeeded": hour.succeeded,
                    "failed": hour.failed,
                    "in_progress": hour.in_progress,
                },
            )
        )
    return {
        "bars": bars,
        "peak": peak,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot_top": PLOT_TOP,
        "plot_bottom": PLOT_BOTTOM,
        "plot_left": PLOT_LEFT,
        "label_y": PLOT_BOTTOM + 18,
        "colours": COLOURS,
        "totals": {
            "succeeded": sum(h.succeeded for h in hours),
            "failed": sum(h.failed for h in hours),
            "in_progress": sum(h.in_progress for h in hours),
        },
    }


@register.inclusion_tag("admin/includes/delivery_dashboard.html", takes_context=True)
def delivery_dashboard(context):
    request = context["request"]
    user = request.user
    if not user.has_perm("deliveries.view_delivery"):
        return {"visible": False}
    health = channel_health()
    channels = list(Channel.objects.filter(pk__in=list(health)).order_by("name", "id"))
    for channel in channels:
        channel.health = health[channel.pk]
    awaiting = list(failed_awaiting_human(limit=10))
    order_ids = order_ids_by_ref(d.event.order_ref for d in awaiting)
    for delivery in awaiting:
        delivery.order_pk = order_ids.get(delivery.event.order_ref)
        delivery.plain_reason = delivery_reason(delivery)
    return {
        "visible": True,
        "chart": _chart(hourly_outcomes()),
        "channels": channels,
        "awaiting": awaiting,
        "can_retry": RETRY.allows(user),
        "request": request,
    }
