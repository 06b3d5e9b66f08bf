from django.db import migrations


def forwards(apps, schema_editor):
    from events.catalogue import load_catalogue

    # Payload schemas for seed 004's ten system events and seed 002's two document notifications.
    load_catalogue(apps.get_model("events", "EventType"))


class Migration(migrations.Migration):
    dependencies = [("events", "0006_idempotency_record")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
