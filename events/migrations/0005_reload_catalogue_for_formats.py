from django.db import migrations


def forwards(apps, schema_editor):
    from events.catalogue import load_catalogue

    # Refreshes the example payloads (order.canceled carries seed 001's orderCustomer too: SPEC section 12).
    load_catalogue(apps.get_model("events", "EventType"))


class Migration(migrations.Migration):
    dependencies = [("events", "0004_critical_and_system_types")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
