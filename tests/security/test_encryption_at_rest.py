"""Secrets at rest (SPEC section 6): signing secrets and custom header values are encrypted in the
database with Fernet under ``FIELD_ENCRYPTION_KEYS``; a dump of the database shows neither.

The dump is the real thing: ``pg_dump`` on PostgreSQL, the database file's bytes on SQLite
(after a WAL checkpoint). Each test also shows the secret was really in play (a postback
signed with it verifies, the header reached the receiver), so "not found" means "not stored".
"""

import base64
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from standardwebhooks.webhooks import Webhook

from channels.models import Channel
from common.fields import UndecryptableValue
from deliveries.engine.dispatcher import Dispatcher
from events.services import emit
from tests.security.conftest import make_user
from tests.security.helpers import run_with_real_settings, token_client
from tests.support.factories import ensure_catalogue, subscribe
from tests.support.receiver import Receiver

# Header names the attempt log masks today, so the dump test is about the channel's own columns;
# tests/security/test_header_masking.py covers arbitrary names in the attempt log.
API_KEY_VALUE = "hdr-credential-4711-do-not-store"
BEARER_VALUE = "Bearer tok-0815-do-not-store"


def _raw_columns(channel_id: int) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret, previous_secret, headers FROM channels_channel WHERE id = %s", [channel_id])
        secret, previous, headers = cursor.fetchone()
    return {"secret": secret, "previous_secret": previous, "headers": headers}


def _dump_database() -> bytes:
    """Everything the database holds, as an attacker with a backup would have it."""
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        path = Path(settings_dict["NAME"])
        wal = path.with_name(path.name + "-wal")
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    env = {**os.environ, "PGPASSWORD": settings_dict.get("PASSWORD") or ""}
    result = subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            settings_dict.get("HOST") or "127.0.0.1",
            "-p",
            str(settings_dict.get("PORT") or 5432),
            "-U",
            settings_dict.get("USER") or "postgres",
            settings_dict["NAME"],
        ],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result.stdout


def _redis_values() -> bytes:
    """Every key and value in the Redis database the brokers use, when one is configured."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return b""
    import redis

    client = redis.Redis.from_url(url)
    chunks = []
    for key in client.scan_iter(count=1000):
        chunks.append(key)
        kind = client.type(key)
        if kind == b"string":
            chunks.append(client.get(key) or b"")
        elif kind == b"list":
            chunks.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            for field, value in client.hgetall(key).items():
                chunks += [field, value]
        elif kind in (b"set", b"zset"):
            chunks.extend(client.zrange(key, 0, -1) if kind == b"zset" else client.smembers(key))
    return b"\n".join(chunks)


def _forms_of(secret: str) -> list[bytes]:
    """The secret as it would show in a dump: whole, without its prefix, and its raw key bytes."""
    key_material = secret.removeprefix("whsec_")
    return [secret.encode(), key_material.encode(), base64.b64decode(key_material)]


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_shows_no_signing_secret_and_no_header_value():
    ensure_catalogue()
    api = token_client(make_user("superuser"))
    with Receiver() as receiver:
        # given a channel made and rotated over the API, with credential headers, that delivered a postback
        created = api.post(
            "/api/v1/channels/",
            {
                "name": "dump-check-channel",
                "url": receiver.url("/hook"),
                "headers": {"X-Api-Key": API_KEY_VALUE, "Authorization": BEARER_VALUE},
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        first = created.json()["secret"]
        rotated = api.post(f"/api/v1/channels/{created.json()['id']}/rotate-secret/")
        second = rotated.json()["secret"]
        channel = Channel.objects.get(pk=created.json()["id"])
        subscribe(channel, "contact.created")
        emit("contact.created", source="shop", payload={"contact": {"id": "C-1"}})
        Dispatcher(threads=2).run(budget_s=10)
        assert api.post(f"/api/v1/channels/{channel.pk}/test/").status_code == 200

        # the secrets and headers were really in play
        sent = receiver.requests[0]
        assert sent.headers["x-api-key"] == API_KEY_VALUE and sent.headers["authorization"] == BEARER_VALUE
        for secret in (first, second):  # signed with both during the grace period
            Webhook(secret).verify(sent.body, dict(sent.headers.items()))

    # when the database is dumped (and the broker's Redis read, when there is one)
    dump = _dump_database() + _redis_values()

    # then the dump is a real one (it holds the channel's row) but no secret and no header value
    assert b"dump-check-channel" in dump
    for secret in (first, second):
        for form in _forms_of(secret):
            assert form not in dump, f"a signing secret is in the dump ({form[:12]!r}...)"
    for value in (API_KEY_VALUE, BEARER_VALUE, "tok-0815-do-not-store"):
        assert value.encode() not in dump, f"a header value is in the dump: {value}"


@pytest.mark.django_db
def test_the_columns_hold_fernet_tokens_that_the_configured_key_opens(settings):
    channel = Channel.objects.create(
        name="tokens", kind="postback", url="http://127.0.0.1:9/hook", headers={"X-Api-Key": API_KEY_VALUE}
    )
    raw = _raw_columns(channel.pk)

    fernet = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
    assert fernet.decrypt(raw["secret"].encode()).decode() == channel.secret
    assert json.loads(fernet.decrypt(raw["headers"].encode())) == {"X-Api-Key": API_KEY_VALUE}
    assert raw["previous_secret"] == ""  # nothing to hide: no previous secret yet
    # Python code sees the values
    fresh = Channel.objects.get(pk=channel.pk)
    assert fresh.secret.startswith("whsec_") and fresh.headers == {"X-Api-Key": API_KEY_VALUE}


@pytest.mark.django_db
def test_a_secret_cannot_be_searched_for_since_tokens_are_randomised():
    channel = Channel.objects.create(name="search", kind="postback", url="http://127.0.0.1:9/hook")
    with pytest.raises(Exception, match="Unsupported lookup"):
        list(Channel.objects.filter(secret__startswith="whsec_"))
    # "has a secret" is still a question the database can answer (the check constraint asks it)
    assert list(Channel.objects.exclude(secret="")) == [channel]


@pytest.mark.django_db
def test_reencrypt_secrets_rewrites_every_value_under_the_new_first_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    channel = Channel.objects.create(
        name="rotate-key", kind="postback", url="http://127.0.0.1:9/hook", headers={"X-Api-Key": API_KEY_VALUE}
    )
    secret = channel.secret
    before = _raw_columns(channel.pk)

    # given a new key put first, the old one kept after it
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert Channel.objects.get(pk=channel.pk).secret == secret  # the old key still opens the old tokens

    # when the command runs
    call_command("reencrypt_secrets", stdout=open(os.devnull, "w"))

    # then every token opens with the new key alone, and the old key can be dropped
    after = _raw_columns(channel.pk)
    assert after["secret"] != before["secret"]
    assert Fernet(new_key).decrypt(after["secret"].encode()).decode() == secret
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    fresh = Channel.objects.get(pk=channel.pk)
    assert fresh.secret == secret and fresh.headers == {"X-Api-Key": API_KEY_VALUE}


@pytest.mark.django_db
def test_a_value_no_configured_key_opens_is_a_clear_error(settings):
    channel = Channel.objects.create(name="lost-key", kind="postback", url="http://127.0.0.1:9/hook")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(UndecryptableValue, match="FIELD_ENCRYPTION_KEYS"):
        Channel.objects.get(pk=channel.pk)


def _settings_in_subprocess(**env):
    return run_with_real_settings(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings as s; print(len(s.FIELD_ENCRYPTION_KEYS))",
        ],
        drop=("FIELD_ENCRYPTION_KEYS", "DEBUG"),
        **env,
    )


def test_without_encryption_keys_and_debug_off_the_service_does_not_start():
    result = _settings_in_subprocess(DEBUG="false")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS is not set" in result.stderr


def test_a_key_that_is_not_a_fernet_key_is_a_clear_startup_error():
    result = _settings_in_subprocess(DEBUG="false", FIELD_ENCRYPTION_KEYS="not-a-key")
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS: key 1 is not a Fernet key" in result.stderr


def test_several_keys_are_read_in_order_and_debug_alone_gets_a_development_key():
    keys = ",".join(Fernet.generate_key().decode() for _ in range(2))
    configured = _settings_in_subprocess(DEBUG="false", FIELD_ENCRYPTION_KEYS=keys)
    assert configured.returncode == 0, configured.stderr[-2000:]
    assert configured.stdout.strip() == "2"
    development = _settings_in_subprocess(DEBUG="true")
    assert development.returncode == 0, development.stderr[-2000:]
    assert development.stdout.strip() == "1"


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_encrypts_existing_rows_and_back():
    """Rows written before encryption (plain text) are encrypted by 0003_encrypt_secrets, and decrypted by its reverse."""
    from django.db.migrations.executor import MigrationExecutor

    ensure_catalogue()
    executor = MigrationExecutor(connection)
    executor.migrate([("channels", "0002_channel_max_in_flight")])
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO channels_channel (name, kind, url, email_to, secret, previous_secret, headers, timeout, "
                "active, created_at, updated_at) VALUES (%s, 'postback', 'http://127.0.0.1:9/old', '', %s, %s, %s, 5, "
                "%s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                [
                    "pre-encryption",
                    "whsec_b2xkLXNlY3JldA==",
                    "whsec_cHJldmlvdXM=",
                    json.dumps({"X-Api-Key": "old-value"}),
                    True,
                ],
            )
            cursor.execute("SELECT id FROM channels_channel WHERE name = 'pre-encryption'")
            (channel_id,) = cursor.fetchone()

        executor = MigrationExecutor(connection)
        executor.migrate([("channels", "0003_encrypt_secrets")])

        raw = _raw_columns(channel_id)
        assert "whsec_" not in raw["secret"] and "old-value" not in raw["headers"]
        # Only the columns that exist at 0003 (later migrations add others).
        channel = Channel.objects.only("secret", "previous_secret", "headers").get(pk=channel_id)
        assert channel.secret == "whsec_b2xkLXNlY3JldA==" and channel.previous_secret == "whsec_cHJldmlvdXM="
        assert channel.headers == {"X-Api-Key": "old-value"}

        executor = MigrationExecutor(connection)
        executor.migrate([("channels", "0002_channel_max_in_flight")])
        raw = _raw_columns(channel_id)
        assert raw["secret"] == "whsec_b2xkLXNlY3JldA==" and json.loads(raw["headers"]) == {"X-Api-Key": "old-value"}
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
