"""The demo receiver's postbacks are visible to staff, read-only and escaped."""

import pytest

from deliveries.models import DemoReceipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def receipt():
    return DemoReceipt.objects.create(
        webhook_id="msg_1",
        event_type="order.completed",
        signature_valid=True,
        headers={"webhook-id": "msg_1"},
        body='{"payload": "<script>alert(1)</script>"}',
    )


def test_staff_with_view_permission_sees_received_postbacks_escaped(make_staff, receipt):
    client = make_staff("deliveries.view_demoreceipt")

    listing = client.get("/admin/deliveries/demoreceipt/")
    detail = client.get(f"/admin/deliveries/demoreceipt/{receipt.pk}/change/")

    assert listing.status_code == 200 and b"order.completed" in listing.content
    assert detail.status_code == 200
    assert b"<script>alert(1)</script>" not in detail.content
    assert b"&lt;script&gt;" in detail.content


def test_received_postbacks_cannot_be_added_changed_or_deleted(make_staff, receipt):
    client = make_staff(
        "deliveries.view_demoreceipt",
        "deliveries.add_demoreceipt",
        "deliveries.change_demoreceipt",
        "deliveries.delete_demoreceipt",
    )

    assert client.get("/admin/deliveries/demoreceipt/add/").status_code == 403
    assert client.post(f"/admin/deliveries/demoreceipt/{receipt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert DemoReceipt.objects.filter(pk=receipt.pk).exists()


def test_staff_without_permission_is_refused(make_staff, receipt):
    assert make_staff().get("/admin/deliveries/demoreceipt/").status_code == 403
