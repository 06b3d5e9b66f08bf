"""Migration deliveries/0009 marks every delivery sent before it of the ``test`` type as a test send."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from channels.models import Channel
from deliveries.models import Delivery as CurrentDelivery
from events.models import Event
from tests.support.factories import ensure_catalogue


@pytest.mark.django_db(transaction=True)
def test_the_backfill_marks_the_test_types_deliveries_and_only_them():
    ensure_catalogue()
    executor = MigrationExecutor(connection)
    executor.migrate([("deliveries", "0008_channel_created_index")])
    try:
        # given, before the marker, a test send and an order.completed delivery (a historical Delivery)
        apps = executor.loader.project_state([("deliveries", "0008_channel_created_index")]).apps
        Delivery = apps.get_model("deliveries", "Delivery")
        channel = Channel.objects.create(name="old", kind="postback", url="http://127.0.0.1:9/old")
        ids = {}
        for key in ("test", "order.completed"):
            event = Event.objects.create(type_id=key, source="admin", occurred_at=timezone.now(), payload={})
            ids[key] = Delivery.objects.create(
                event_id=event.pk, channel_id=channel.pk, event_type_id=key, source="admin", status="succeeded"
            ).pk

        # when the migration runs
        executor = MigrationExecutor(connection)
        executor.migrate([("deliveries", "0009_delivery_is_test")])

        # then only the test type's delivery is marked
        marked = dict(CurrentDelivery.objects.filter(pk__in=ids.values()).values_list("event_type_id", "is_test"))
        assert marked == {"test": True, "order.completed": False}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
