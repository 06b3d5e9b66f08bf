from django.db import migrations


def forwards(apps, schema_editor):
    from events.catalogue import load_catalogue

    load_catalogue(apps.get_model("events", "EventType"))


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
