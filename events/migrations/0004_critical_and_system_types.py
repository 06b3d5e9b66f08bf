from django.db import migrations, models

# Seed 004's four money events: an undelivered one raises an alert (SPEC section 10).
CRITICAL_BY_DEFAULT = ["order.completed", "transaction.approved", "transaction.declined", "refund.applied"]


def forwards(apps, schema_editor):
    from events.catalogue import load_catalogue

    event_type = apps.get_model("events", "EventType")
    # Existing rows keep their staff settings in load_catalogue; these four start critical.
    event_type.objects.filter(key__in=CRITICAL_BY_DEFAULT).update(critical=True)
    # Adds the operational types (category "System": postbacks.channel.disabled, ...).
    load_catalogue(event_type)


class Migration(migrations.Migration):
    dependencies = [("events", "0003_order")]

    operations = [
        migrations.AddField(
            model_name="eventtype",
            name="critical",
            field=models.BooleanField(
                default=False,
                help_text="A delivery of this type not succeeded within WEBHOOKS_ALERT_AFTER_MIN minutes raises an alert.",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
