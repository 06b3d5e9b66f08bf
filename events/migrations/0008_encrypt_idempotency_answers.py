import common.fields
from django.db import migrations


def forget_plain_answers(apps, schema_editor):
    # Answers stored before this were plain text; they live 24 hours and are only replays, so they
    # are dropped rather than encrypted (a key sent again is then answered afresh).
    apps.get_model("events", "IdempotencyRecord").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("events", "0007_reload_catalogue_payload_schemas")]

    operations = [
        migrations.RunPython(forget_plain_answers, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="body",
            field=common.fields.EncryptedTextField(blank=True),
        ),
    ]
