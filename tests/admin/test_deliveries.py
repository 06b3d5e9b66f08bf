"""Deliveries: a read-only, filterable log that never counts the whole table; "Retry selected"."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from common.admin import EstimatedCountPaginator
from deliveries.models import Delivery, DeliveryStatus

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:deliveries_delivery_changelist")


def shown(response):
    return {d.pk for d in response.context["cl"].result_list}


def test_log_filters_by_status_type_channel_source_and_date(
    admin_client, make_delivery, postback_channel, email_channel
):
    a = make_delivery(channel=postback_channel, key="order.completed", status=DeliveryStatus.FAILED, source="shop")
    b = make_delivery(
        channel=postback_channel,
        key="refund.applied",
        status=DeliveryStatus.SUCCEEDED,
        source="admin",
        response_status=200,
    )
    c = make_delivery(
        channel=email_channel,
        key="order.completed",
        status=DeliveryStatus.SUCCEEDED,
        source="funnel",
        response_status=200,
        created_at=timezone.now() - timedelta(days=10),
    )

    assert shown(admin_client.get(LIST_URL)) == {a.pk, b.pk, c.pk}
    assert shown(admin_client.get(LIST_URL, {"status__exact": "failed"})) == {a.pk}
    assert shown(admin_client.get(LIST_URL, {"event_type__key__exact": "order.completed"})) == {a.pk, c.pk}
    assert shown(admin_client.get(LIST_URL, {"channel__id__exact": email_channel.pk})) == {c.pk}
    assert shown(admin_client.get(LIST_URL, {"source": "admin"})) == {b.pk}
    since = (timezone.now() - timedelta(days=7)).isoformat()
    assert shown(admin_client.get(LIST_URL, {"created_at__gte": since})) == {a.pk, b.pk}


def test_log_is_newest_first(admin_client, make_delivery, postback_channel):
    ids = [make_delivery(channel=postback_channel).pk for _ in range(3)]
    assert [d.pk for d in admin_client.get(LIST_URL).context["cl"].result_list] == ids[::-1]


def test_log_query_count_does_not_grow_with_rows_shown(
    admin_client, make_delivery, postback_channel, email_channel, django_assert_max_num_queries
):
    make_delivery(channel=postback_channel, order_ref="A-1")
    with django_assert_max_num_queries(12) as few:
        admin_client.get(LIST_URL)
    for i in range(30):
        make_delivery(channel=email_channel if i % 2 else postback_channel, order_ref=f"A-{i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(LIST_URL)
    assert len(response.context["cl"].result_list) == 31


def test_log_never_counts_the_whole_table(admin_client, make_delivery, postback_channel, django_assert_max_num_queries):
    make_delivery(channel=postback_channel)
    with django_assert_max_num_queries(20) as queries:
        admin_client.get(LIST_URL, {"status__exact": "failed"})
    counts = [
        q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper() and "deliveries_delivery" in q["sql"]
    ]
    assert counts, "the paginator counts something"
    assert all("LIMIT" in sql.upper() for sql in counts), counts


def test_paginator_counts_exactly_up_to_the_cap_then_estimates(make_delivery, postback_channel, monkeypatch):
    for _ in range(7):
        make_delivery(channel=postback_channel, attempts=0)
    queryset = Delivery.objects.order_by("-id")

    assert EstimatedCountPaginator(queryset, 2).count == 7
    monkeypatch.setattr(EstimatedCountPaginator, "cap", 5)
    paginator = EstimatedCountPaginator(queryset, 2)
    assert paginator.count >= 6 and paginator.is_estimated
    assert len(paginator.page(1).object_list) == 2


def test_delivery_page_shows_each_attempts_request_and_response(admin_client, make_delivery, postback_channel):
    delivery = make_delivery(channel=postback_channel, attempts=2)

    html = admin_client.get(reverse("admin:deliveries_delivery_change", args=[delivery.pk])).content.decode()

    assert "answer 1" in html and "answer 2" in html  # response bodies
    assert str(delivery.event_id) in html  # request body / webhook-id
    assert postback_channel.url in html
    assert 'id="retry-form"' in html


def test_the_log_is_read_only(admin_client, make_delivery, postback_channel):
    delivery = make_delivery(channel=postback_channel)
    url = reverse("admin:deliveries_delivery_change", args=[delivery.pk])

    response = admin_client.post(url, {"status": "succeeded"})

    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert admin_client.get(reverse("admin:deliveries_delivery_add")).status_code == 403
    assert admin_client.post(reverse("admin:deliveries_delivery_delete", args=[delivery.pk])).status_code == 403


def test_retry_selected_retries_what_it_may_and_says_what_was_skipped_and_why(
    admin_client, make_delivery, postback_channel
):
    retryable = make_delivery(channel=postback_channel, key="order.completed")
    wrong_type = make_delivery(channel=postback_channel, key="contact.created")
    succeeded = make_delivery(
        channel=postback_channel, key="order.completed", status=DeliveryStatus.SUCCEEDED, response_status=200
    )

    response = admin_client.post(
        LIST_URL, {"action": "retry_selected", "_selected_action": [retryable.pk, wrong_type.pk, succeeded.pk]}
    )

    assert response.status_code == 302
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {retryable.pk: "pending", wrong_type.pk: "failed", succeeded.pk: "succeeded"}
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts == [
        "1 queued for retry; 1 skipped because they already succeeded; "
        "1 skipped because their event type does not allow a manual retry."
    ]


def test_retry_selected_is_not_offered_without_the_permission(make_staff, make_delivery, postback_channel):
    delivery = make_delivery(channel=postback_channel)
    client = make_staff("deliveries.view_delivery")

    page = client.get(LIST_URL)
    assert "retry_selected" not in page.content.decode()
    response = client.post(LIST_URL, {"action": "retry_selected", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert response.status_code in (200, 302)


def test_search_finds_by_delivery_id_event_id_or_order_reference(admin_client, make_delivery, postback_channel):
    a = make_delivery(channel=postback_channel, order_ref="A-100")
    b = make_delivery(channel=postback_channel, order_ref="A-200")

    assert shown(admin_client.get(LIST_URL, {"q": str(a.pk)})) == {a.pk}
    assert shown(admin_client.get(LIST_URL, {"q": str(b.event_id)})) == {b.pk}
    assert shown(admin_client.get(LIST_URL, {"q": "A-200"})) == {b.pk}
    assert shown(admin_client.get(LIST_URL, {"q": "nothing like it"})) == set()
    assert shown(admin_client.get(LIST_URL, {"q": "99999999999999999999999"})) == set()


def test_retry_selected_considers_a_bounded_batch_and_says_so(
    admin_client, make_delivery, postback_channel, monkeypatch
):
    import deliveries.services

    monkeypatch.setattr(deliveries.services, "RETRY_BATCH_LIMIT", 2)
    ids = [make_delivery(channel=postback_channel).pk for _ in range(3)]

    response = admin_client.post(LIST_URL, {"action": "retry_selected", "_selected_action": ids})

    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert "Only the first 2 deliveries were considered; run the action again for the rest." in texts
    assert "2 queued for retry." in texts
    assert Delivery.objects.filter(status="pending").count() == 2
