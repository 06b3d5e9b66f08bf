"""Reads about events and orders for the staff pages."""

from events.models import Order


def order_ids_by_ref(refs) -> dict[str, int]:
    """Order ids for the given references, in one query (links from delivery lists to order pages)."""
    refs = {r for r in refs if r}
    if not refs:
        return {}
    return dict(Order.objects.filter(ref__in=refs).values_list("ref", "id"))
