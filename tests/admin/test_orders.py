"""Orders: the list (newest first, searchable) and an order's timeline with Retry."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from deliveries.models import Delivery, DeliveryStatus, Trigger
from events.models import Order

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:events_order_changelist")


def order_url(ref):
    return reverse("admin:events_order_change", args=[Order.objects.get(ref=ref).pk])


def retry_url(delivery):
    return reverse("admin:deliveries_delivery_retry", args=[delivery.pk])


def make_orders(n, start=0):
    now = timezone.now()
    for i in range(start, start + n):
        Order.objects.create(ref=f"A-{i:05d}", first_event_at=now, last_event_at=now + timedelta(seconds=i))


def test_orders_are_listed_newest_first(admin_client):
    make_orders(3)

    response = admin_client.get(LIST_URL)

    assert [o.ref for o in response.context["cl"].result_list] == ["A-00002", "A-00001", "A-00000"]


def test_orders_are_searchable_by_reference(admin_client):
    make_orders(30)

    response = admin_client.get(LIST_URL, {"q": "A-0001"})

    refs = [o.ref for o in response.context["cl"].result_list]
    assert refs == [f"A-{i:05d}" for i in range(19, 9, -1)]


def test_order_list_query_count_does_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    make_orders(5)
    # 7: one of them is the banner of channels disabled automatically, on every admin page.
    with django_assert_max_num_queries(7) as few:
        admin_client.get(LIST_URL)
    make_orders(95, start=5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(LIST_URL)
    assert len(response.context["cl"].result_list) == 100


def test_order_page_is_its_timeline_with_deliveries_and_attempts(admin_client, make_delivery, postback_channel):
    # given an order with a failed order.completed and a succeeded contact.created
    failed = make_delivery(channel=postback_channel, key="order.completed", order_ref="A-1", attempts=4)
    ok = make_delivery(
        channel=postback_channel,
        key="contact.created",
        order_ref="A-1",
        status=DeliveryStatus.SUCCEEDED,
        response_status=200,
    )

    response = admin_client.get(order_url("A-1"))

    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-event="{failed.event_id}"' in html and f'data-event="{ok.event_id}"' in html
    failed_row = html.split(f'data-delivery="{failed.pk}"')[1].split("</tr>")[0]
    assert failed_row.count("data-attempt=") == 4 and "HTTP 500" in failed_row
    assert retry_url(failed) in failed_row
    ok_row = html.split(f'data-delivery="{ok.pk}"')[1].split("</tr>")[0]
    assert "Retry" not in ok_row


def test_no_retry_button_for_types_without_manual_retry(admin_client, make_delivery, postback_channel):
    # contact.created is not one of seed 004's manually retryable events
    delivery = make_delivery(channel=postback_channel, key="contact.created", order_ref="A-2")

    html = admin_client.get(order_url("A-2")).content.decode()

    row = html.split(f'data-delivery="{delivery.pk}"')[1].split("</tr>")[0]
    assert retry_url(delivery) not in row
    assert "No manual retry for this event" in row


def test_order_page_query_count_does_not_grow_with_events(
    admin_client, make_delivery, postback_channel, django_assert_max_num_queries
):
    make_delivery(channel=postback_channel, order_ref="A-3")
    with django_assert_max_num_queries(10) as few:
        admin_client.get(order_url("A-3"))
    for _ in range(15):
        make_delivery(channel=postback_channel, order_ref="A-3", attempts=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(order_url("A-3"))
    assert len(response.context["timeline"]) == 16


def test_staff_without_the_retry_permission_see_no_retry_button_and_a_forged_post_is_403(
    make_staff, make_delivery, postback_channel
):
    delivery = make_delivery(channel=postback_channel, order_ref="A-4")
    client = make_staff("events.view_order", "deliveries.view_delivery")

    html = client.get(order_url("A-4")).content.decode()
    assert retry_url(delivery) not in html and "retry-all-form" not in html

    assert client.post(retry_url(delivery)).status_code == 403
    order_pk = Order.objects.get(ref="A-4").pk
    assert client.post(reverse("admin:events_order_retry_failed", args=[order_pk])).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_retry_post_without_csrf_token_is_rejected(make_staff, make_delivery, postback_channel):
    delivery = make_delivery(channel=postback_channel, order_ref="A-5")
    client = make_staff("events.view_order", "deliveries.retry_delivery", enforce_csrf_checks=True)

    assert client.post(retry_url(delivery)).status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_retry_queues_one_manual_attempt_and_returns_to_the_order(
    make_staff, make_delivery, postback_channel, django_capture_on_commit_callbacks
):
    delivery = make_delivery(channel=postback_channel, order_ref="A-6")
    client = make_staff("events.view_order", "deliveries.view_delivery", "deliveries.retry_delivery")
    page = order_url("A-6")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(retry_url(delivery), {"next": page})

    assert response.status_code == 302 and response["Location"] == page
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.pending_trigger == Trigger.MANUAL and delivery.requested_by == client.user
    assert callbacks, "the retry is queued when the transaction commits"
    assert LogEntry.objects.filter(object_id=str(delivery.pk), change_message="Manual retry requested.").exists()
    assert "1 queued for retry." in client.get(page).content.decode()


def test_retry_goes_back_only_to_our_own_pages(make_staff, make_delivery, postback_channel):
    delivery = make_delivery(channel=postback_channel, order_ref="A-7")
    client = make_staff("deliveries.view_delivery", "deliveries.retry_delivery")

    response = client.post(retry_url(delivery), {"next": "https://evil.example.com/"})

    assert response["Location"] == reverse("admin:deliveries_delivery_change", args=[delivery.pk])


def test_retry_of_a_type_without_manual_retry_is_refused_with_the_reason(admin_client, make_delivery, postback_channel):
    delivery = make_delivery(channel=postback_channel, key="contact.created", order_ref="A-8")

    response = admin_client.post(retry_url(delivery), {"next": order_url("A-8")}, follow=True)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "cannot be retried by hand" in response.content.decode()


def test_retry_all_failed_retries_only_what_may_be_retried(admin_client, make_delivery, postback_channel):
    # given an order with two retryable failures, one non-retryable type, and one success
    a = make_delivery(channel=postback_channel, key="order.completed", order_ref="A-9")
    b = make_delivery(channel=postback_channel, key="refund.applied", order_ref="A-9")
    c = make_delivery(channel=postback_channel, key="contact.created", order_ref="A-9")
    d = make_delivery(
        channel=postback_channel,
        key="transaction.approved",
        order_ref="A-9",
        status=DeliveryStatus.SUCCEEDED,
        response_status=200,
    )
    page = admin_client.get(order_url("A-9")).content.decode()
    assert "Retry all failed (2)" in page

    response = admin_client.post(
        reverse("admin:events_order_retry_failed", args=[Order.objects.get(ref="A-9").pk]), follow=True
    )

    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses[a.pk] == statuses[b.pk] == DeliveryStatus.PENDING
    assert statuses[c.pk] == DeliveryStatus.FAILED and statuses[d.pk] == DeliveryStatus.SUCCEEDED
    assert "2 queued for retry." in response.content.decode()


def test_order_pages_need_the_view_permission(make_staff, make_delivery, postback_channel):
    make_delivery(channel=postback_channel, order_ref="A-10")
    client = make_staff("deliveries.view_delivery")
    assert client.get(LIST_URL).status_code == 403
    assert client.get(order_url("A-10")).status_code == 403


def test_unknown_order_is_404(admin_client):
    assert admin_client.get(reverse("admin:events_order_change", args=[999999])).status_code == 404


def test_event_log_search_finds_by_event_id_or_order_reference(admin_client, make_delivery, postback_channel):
    a = make_delivery(channel=postback_channel, order_ref="A-300")
    b = make_delivery(channel=postback_channel, order_ref="A-400")
    url = reverse("admin:events_event_changelist")

    def found(q):
        return {e.pk for e in admin_client.get(url, {"q": q}).context["cl"].result_list}

    assert found(str(a.event_id)) == {a.event_id}
    assert found("A-400") == {b.event_id}
    assert found("not an id") == set()


def test_order_list_shows_event_delivery_and_failure_counts(admin_client, make_delivery, postback_channel):
    make_delivery(channel=postback_channel, order_ref="S-1")
    make_delivery(channel=postback_channel, order_ref="S-1", status=DeliveryStatus.SUCCEEDED, response_status=200)
    make_delivery(channel=postback_channel, order_ref="S-2", status=DeliveryStatus.SUCCEEDED, response_status=200)

    response = admin_client.get(LIST_URL)

    summaries = {o.ref: o.summary for o in response.context["cl"].result_list}
    assert (summaries["S-1"].events, summaries["S-1"].deliveries, summaries["S-1"].failed) == (2, 2, 1)
    assert (summaries["S-2"].events, summaries["S-2"].deliveries, summaries["S-2"].failed) == (1, 1, 0)
