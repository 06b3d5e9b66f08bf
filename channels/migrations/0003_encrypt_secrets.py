"""Encrypt channel secrets and custom headers at rest (issue 15).

1. the check that a postback channel has a secret can no longer read the prefix: dropped;
2. the columns become plain text (PostgreSQL casts jsonb to its text form);
3. every row's values are encrypted under the first key of FIELD_ENCRYPTION_KEYS;
4. the columns are declared encrypted (no schema change: still text) and the check is back,
   as "has a secret".

Reversible: backwards, the values are decrypted and the columns get their old types.
"""

import json

from django.db import migrations, models

import common.fields
from common.encryption import decrypt, encrypt


def _rows(apps):
    Channel = apps.get_model("channels", "Channel")
    return Channel, Channel.objects.order_by("pk").values_list("pk", "secret", "previous_secret", "headers")


def encrypt_rows(apps, schema_editor):
    Channel, rows = _rows(apps)
    for pk, secret, previous, headers in rows.iterator(chunk_size=500):
        if isinstance(headers, str):
            headers = json.loads(headers or "{}")
        Channel.objects.filter(pk=pk).update(
            secret=encrypt(secret) if secret else "",
            previous_secret=encrypt(previous) if previous else "",
            headers=encrypt(json.dumps(headers or {}, separators=(",", ":"), ensure_ascii=False)),
        )


def decrypt_rows(apps, schema_editor):
    Channel, rows = _rows(apps)
    for pk, secret, previous, headers in rows.iterator(chunk_size=500):
        Channel.objects.filter(pk=pk).update(
            secret=decrypt(secret) if secret else "",
            previous_secret=decrypt(previous) if previous else "",
            headers=decrypt(headers) if headers else "{}",
        )


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0002_channel_max_in_flight"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="channel", name="channel_postback_has_secret"),
        migrations.AlterField(
            model_name="channel", name="secret", field=models.TextField(blank=True, editable=False)
        ),
        migrations.AlterField(
            model_name="channel", name="previous_secret", field=models.TextField(blank=True, editable=False)
        ),
        migrations.AlterField(
            model_name="channel",
            name="headers",
            field=models.TextField(blank=True, default="{}", help_text="Extra HTTP headers sent with each postback."),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterField(
            model_name="channel",
            name="secret",
            field=common.fields.EncryptedTextField(blank=True, editable=False),
        ),
        migrations.AlterField(
            model_name="channel",
            name="previous_secret",
            field=common.fields.EncryptedTextField(blank=True, editable=False),
        ),
        migrations.AlterField(
            model_name="channel",
            name="headers",
            field=common.fields.EncryptedJSONField(
                blank=True, default=dict, help_text="Extra HTTP headers sent with each postback."
            ),
        ),
        migrations.AddConstraint(
            model_name="channel",
            constraint=models.CheckConstraint(
                condition=models.Q(models.Q(("kind", "postback"), _negated=True), models.Q(("secret", ""), _negated=True), _connector="OR"),
                name="channel_postback_has_secret",
            ),
        ),
        migrations.AlterModelOptions(
            name="channel",
            options={
                "ordering": ["name", "id"],
                "permissions": [
                    ("send_test_event", "Can send a test event to a channel"),
                    ("reveal_secret", "Can reveal a channel's signing secret and custom header values"),
                    ("rotate_secret", "Can rotate a channel's signing secret"),
                ],
            },
        ),
    ]
