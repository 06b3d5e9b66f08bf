"""The payload format in the admin (SPEC sections 7 and 12): the select with its explanation and a live
example body, the column, and the attach form's refusal."""

import json

import pytest
from django.urls import reverse

from channels.models import Channel, Subscription
from events.formats import EXPLANATIONS

pytestmark = pytest.mark.django_db


def test_the_channel_form_has_the_format_select_its_explanation_and_example_bodies(admin_client):
    channel = Channel.objects.create(name="ERP", url="http://127.0.0.1:9/erp", format="fakturia")

    page = admin_client.get(reverse("admin:channels_channel_change", args=[channel.pk])).content.decode()

    assert 'name="format"' in page and "data-format-select" in page
    assert EXPLANATIONS["fakturia"].split(" (")[0] in page
    # The first fakturia example, server-rendered; every format's examples for the script
    assert "&quot;eventType&quot;: &quot;CUSTOMER_CREATED&quot;" in page or '"eventType": "CUSTOMER_CREATED"' in page
    data = json.loads(page.split('<script id="format-examples" type="application/json">', 1)[1].split("</script>")[0])
    assert data["current"] == "fakturia"
    flat_types = {key: json.loads(body) for key, _label, body in data["formats"]["flat"]["types"]}
    assert flat_types["document.status_changed"]["eventType"] == "DOCUMENT_STATUS_CHANGED"
    assert "documentId" in flat_types["document.status_changed"]
    nitrobox_types = {key: json.loads(body) for key, _label, body in data["formats"]["nitrobox"]["types"]}
    assert nitrobox_types["contract.canceled"]["eventType"] == "contract.cancelled"
    assert "order.completed" in {key for key, _l, _b in data["formats"]["standard"]["types"]}
    assert "order.completed" not in nitrobox_types


def test_a_channel_is_created_in_a_format_from_the_admin_and_listed_with_it(admin_client):
    response = admin_client.post(
        reverse("admin:channels_channel_add") + "?kind=postback",
        {
            "name": "Billing",
            "kind": "postback",
            "url": "http://127.0.0.1:9/b",
            "format": "nitrobox",
            "headers": "{}",
            "timeout": 5,
            "active": "on",
        },
    )

    assert response.status_code == 302
    assert Channel.objects.get(name="Billing").format == "nitrobox"
    listing = admin_client.get(reverse("admin:channels_channel_changelist")).content.decode()
    assert "Nitrobox" in listing


def test_attaching_an_unnamed_type_shows_a_form_error_naming_its_formats(admin_client):
    channel = Channel.objects.create(name="ERP", url="http://127.0.0.1:9/erp", format="fakturia")

    response = admin_client.post(
        reverse("admin:events_eventtype_attach", args=["order.completed"]), {"channel": channel.pk, "sources": ["shop"]}
    )

    assert response.status_code == 200
    [error] = response.context["form"].errors["channel"]
    assert "fakturia format" in error and "formats: standard" in error
    assert not Subscription.objects.exists()
    assert "ERP (Postback (signed HTTP POST), Fakturia format)" in response.content.decode()
