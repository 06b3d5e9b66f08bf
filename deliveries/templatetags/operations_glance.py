"""The admin index's operations at a glance (SPEC section 11): workers alive, due backlog,
oldest due, channels cooling off or inactive; open alerts once that model exists.

An inclusion tag of its own (``{% operations_glance %}``), so the index can combine it with
other includes. Three small queries (heartbeats, backlog, channels by state), and one each for the names
of channels cooling off or inactive when there are some.
"""

from django import template
from django.apps import apps
from django.conf import settings

from deliveries.operations import channel_states, due_backlog, heartbeats

register = template.Library()


@register.inclusion_tag("admin/includes/operations_glance.html", takes_context=True)
def operations_glance(context):
    user = context["request"].user
    if not user.has_perm("deliveries.view_delivery"):
        return {"visible": False}
    beats = heartbeats()
    return {
        "visible": True,
        "beats": beats,
        "workers_ok": beats.worker_age_s is not None and beats.worker_age_s <= settings.WEBHOOKS_WORKER_MAX_AGE_S,
        "sweeper_ok": beats.sweeper_age_s is not None and beats.sweeper_age_s <= settings.WEBHOOKS_SWEEPER_MAX_AGE_S,
        "backlog": due_backlog(),
        "channels": channel_states(examples=5),
        "open_alerts": _open_alerts(),
    }


def _open_alerts() -> int | None:
    try:
        alert = apps.get_model("deliveries", "Alert")
    except LookupError:
        return None
    return alert.objects.filter(cleared_at__isnull=True).count()
