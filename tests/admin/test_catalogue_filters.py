"""System notifications: search, category jump list, only-enabled and availability filters, badges."""

import re

import pytest
from django.urls import reverse

from events.models import Availability, EventType

pytestmark = pytest.mark.django_db
URL = reverse("admin:events_eventtype_changelist")


def shown_keys(html: str) -> list[str]:
    return re.findall(r'<tr id="type-([^"]+)"', html)


def test_search_finds_types_by_name_key_and_description(admin_client):
    assert shown_keys(admin_client.get(URL, {"q": "refund applied"}).content.decode()) == ["refund.applied"]
    assert shown_keys(admin_client.get(URL, {"q": "dunning.created"}).content.decode()) == ["dunning.created"]
    # a word of the description only
    assert "product.conflict" in shown_keys(admin_client.get(URL, {"q": "already own"}).content.decode())


def test_search_also_finds_the_german_wording(admin_client):
    html = admin_client.get(URL, {"q": "Mahnung"}, headers={"accept-language": "de"}).content.decode()
    assert shown_keys(html) == ["dunning.created"]


def test_only_enabled_and_availability_filters(admin_client):
    EventType.objects.update(enabled=False)
    EventType.objects.filter(key__in=["order.completed", "order.created"]).update(enabled=True)

    enabled = shown_keys(admin_client.get(URL, {"enabled": "1"}).content.decode())
    assert enabled == ["order.completed", "order.created"]

    on_demand = shown_keys(admin_client.get(URL, {"enabled": "1", "availability": "on_demand"}).content.decode())
    assert on_demand == ["order.created"]

    every_on_demand = shown_keys(admin_client.get(URL, {"availability": "on_demand"}).content.decode())
    assert set(every_on_demand) == set(
        EventType.objects.filter(availability=Availability.ON_DEMAND).values_list("key", flat=True)
    )


def test_unknown_filter_values_are_ignored_and_nothing_found_says_so(admin_client):
    everything = shown_keys(admin_client.get(URL).content.decode())
    assert shown_keys(admin_client.get(URL, {"availability": "bogus", "enabled": "x"}).content.decode()) == everything
    html = admin_client.get(URL, {"q": "no-such-event-anywhere"}).content.decode()
    assert shown_keys(html) == [] and 'id="catalogue-empty"' in html and 'id="catalogue-reset"' in html


def test_the_jump_list_links_every_shown_category(admin_client):
    html = admin_client.get(URL).content.decode()
    jump = html.split('id="category-jump"')[1].split("</nav>")[0]
    anchors = re.findall(r'href="#(category-[^"]+)"', jump)
    assert len(anchors) == len(set(EventType.objects.values_list("category", flat=True)))
    for anchor in anchors:
        assert f'id="{anchor}"' in html
    filtered = admin_client.get(URL, {"q": "invoice"}).content.decode()
    assert 'href="#category-orders"' not in filtered.split('id="category-jump"')[1].split("</nav>")[0]


def test_badges_only_where_they_tell_something(admin_client):
    html = admin_client.get(URL).content.decode()
    assert 'badge">Standard' not in html and html.count(">Standard<") == 1  # only the filter's option
    row = html.split('<tr id="type-order.created"')[1].split("</tr>")[0]
    assert "On demand" in row
    row = html.split('<tr id="type-order.completed"')[1].split("</tr>")[0]
    assert "Manual retry" in row and "Critical" in row
    row = html.split('<tr id="type-order.received"')[1].split("</tr>")[0]
    assert 'class="badge' not in row


def test_the_catalogue_page_runs_the_same_queries_filtered_or_not(admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(20) as plain:
        admin_client.get(URL)
    with django_assert_max_num_queries(len(plain.captured_queries)):
        admin_client.get(URL, {"q": "order", "enabled": "1", "availability": "standard"})
