"""Reads for the staff pages about the catalogue and orders (the admin's selectors).

Each function runs a fixed number of queries whatever the number of rows it returns.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q

from channels.models import Subscription
from deliveries.models import Attempt, Delivery
from events.models import Event, EventType, Order


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


@dataclass
class TimelineEntry:
    event: Event
    deliveries: list


def order_timeline(*, order_ref: str, limit: int = 500) -> list[TimelineEntry]:
    """An order's events, oldest first, each with its deliveries and their attempts.

    Three queries (events, deliveries with channel and type, attempts). ``limit``
    bounds a pathological order with thousands of events.
    """
    attempts = Prefetch("attempts", queryset=Attempt.objects.select_related("triggered_by").order_by("number"))
    deliveries = Prefetch(
        "deliveries",
        queryset=Delivery.objects.select_related("channel", "event_type", "requested_by")
        .prefetch_related(attempts)
        .order_by("id"),
    )
    events = (
        Event.objects.filter(order_ref=order_ref)
        .select_related("type", "triggered_by")
        .prefetch_related(deliveries)
        .order_by("-created_at")[:limit]
    )
    # Newest first from the index, shown oldest first: a timeline reads downwards.
    events = sorted(events, key=lambda e: (e.created_at, str(e.id)))
    return [TimelineEntry(event=e, deliveries=list(e.deliveries.all())) for e in events]


def failed_deliveries_of_order(*, order_ref: str):
    """Failed deliveries of an order whose type allows a manual retry (for "Retry all failed")."""
    return (
        Delivery.objects.filter(event__order_ref=order_ref, status="failed", event_type__manual_retry=True)
        .select_related("event_type", "channel")
        .order_by("id")
    )


def order_ids_by_ref(refs) -> dict[str, int]:
    """Order ids for the given references, in one query (links from delivery lists to order pages)."""
    refs = {r for r in refs if r}
    if not refs:
        return {}
    return dict(Order.objects.filter(ref__in=refs).values_list("ref", "id"))


@dataclass
class OrderSummary:
    events: int = 0
    deliveries: int = 0
    failed: int = 0


def order_summaries(*, refs) -> dict[str, OrderSummary]:
    """Events, deliveries and failed deliveries per order, for one page of orders (two grouped queries)."""
    refs = [r for r in refs if r]
    summaries = {ref: OrderSummary() for ref in refs}
    if not refs:
        return summaries
    for ref, n in Event.objects.filter(order_ref__in=refs).values_list("order_ref").annotate(n=Count("id")).order_by():
        summaries[ref].events = n
    rows = (
        Delivery.objects.filter(event__order_ref__in=refs)
        .values("event__order_ref")
        .annotate(total=Count("id"), failed=Count("id", filter=Q(status="failed")))
        .order_by()
    )
    for row in rows:
        summary = summaries[row["event__order_ref"]]
        summary.deliveries, summary.failed = row["total"], row["failed"]
    return summaries
