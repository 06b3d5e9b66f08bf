"""Reads for the staff pages about the catalogue and its attached channels.

Each function runs a fixed number of queries whatever the number of rows it returns.
"""

from dataclasses import dataclass, field

from django.db.models import Count

from channels.models import Subscription
from events.models import EventType


@dataclass
class CatalogueCategory:
    name: str
    event_types: list = field(default_factory=list)


def catalogue_by_category() -> list[CatalogueCategory]:
    """Every event type, grouped by category in catalogue order, with ``channel_count``.

    Two queries: the types, and the subscription count per type.
    """
    counts = dict(
        Subscription.objects.values_list("event_type_id").annotate(n=Count("id")).values_list("event_type_id", "n")
    )
    event_types = list(EventType.objects.order_by("position", "key"))
    for event_type in event_types:
        event_type.channel_count = counts.get(event_type.key, 0)
    categories: dict[str, CatalogueCategory] = {}
    for event_type in event_types:
        categories.setdefault(event_type.category, CatalogueCategory(event_type.category)).event_types.append(
            event_type
        )
    return list(categories.values())


def subscriptions_of(*, event_type: EventType):
    return Subscription.objects.filter(event_type=event_type).select_related("channel").order_by("channel__name", "id")
