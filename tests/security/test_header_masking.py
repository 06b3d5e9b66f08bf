"""Custom header values are credentials, whatever their names (SPEC section 6).

Shown in clear only to users who may reveal secrets (``channels.reveal_secret`` with the
view permission), in the API and in the admin alike; masked values sent back unchanged keep
the stored ones; the attempt log and the HTTP client's DEBUG log mask them and any
query-string value of the URL.
"""

import html
import logging
import re

import pytest
from django.test import Client

from channels.masking import headers_for, keep_masked_values, mask_custom_headers
from channels.models import Channel
from common.masking import MASK, mask_query_strings
from deliveries.engine.dispatcher import Dispatcher
from deliveries.models import Attempt
from events.services import emit
from tests.security.conftest import PASSWORD, VIEW_PERMS, _grant
from tests.security.helpers import token_client
from tests.support.factories import subscribe
from tests.support.receiver import Receiver

pytestmark = pytest.mark.django_db

# Names no word list would call secret, and the ones a hostile user found stored in clear.
CREDENTIALS = {
    "Authorization": "Bearer cred-authorization-1",
    "X-Api-Key": "cred-api-key-2",
    "X-Auth": "cred-x-auth-3",
    "Api_Key": "cred-underscore-4",
    "X-Access-Key": "cred-access-5",
    "Private-Key": "cred-private-6",
    "X-Tenant": "cred-tenant-7",
}


def _user(name, perms, *, staff=True):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username=name, password=PASSWORD, is_staff=staff)
    _grant(user, perms)
    return get_user_model().objects.get(pk=user.pk)


def _browser(user):
    client = Client()
    assert client.login(username=user.get_username(), password=PASSWORD)
    return client


@pytest.fixture
def channel(db):
    return Channel.objects.create(
        name="credentialed", kind="postback", url="http://127.0.0.1:9/hook", headers=CREDENTIALS
    )


def _leaked(text: str) -> list[str]:
    return [value for value in CREDENTIALS.values() if value in text or value.split()[-1] in text]


# --- API and admin: who sees the values -------------------------------------------------


def test_the_api_masks_every_header_value_for_a_user_who_may_only_view(channel):
    viewer = token_client(_user("viewer", VIEW_PERMS))

    listed = viewer.get("/api/v1/channels/")
    detail = viewer.get(f"/api/v1/channels/{channel.pk}/")

    assert listed.status_code == detail.status_code == 200
    assert detail.json()["headers"] == {name: MASK for name in CREDENTIALS}  # names kept, values masked
    assert not _leaked(listed.content.decode()) and not _leaked(detail.content.decode())


def test_the_api_shows_header_values_to_a_user_who_may_reveal(channel):
    revealer = token_client(_user("revealer", [*VIEW_PERMS, "channels.reveal_secret"]))
    assert revealer.get(f"/api/v1/channels/{channel.pk}/").json()["headers"] == CREDENTIALS


def test_the_admin_channel_page_masks_header_values_for_a_user_who_may_only_view(channel):
    page = _browser(_user("viewer", VIEW_PERMS)).get(f"/admin/channels/channel/{channel.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "X-Access-Key" in text  # the names are shown
    assert not _leaked(text), _leaked(text)


def test_the_admin_change_form_masks_values_for_an_editor_who_may_not_reveal_and_saving_keeps_them(channel):
    editor = _browser(_user("editor", [*VIEW_PERMS, "channels.change_channel"]))
    form = editor.get(f"/admin/channels/channel/{channel.pk}/change/")
    assert form.status_code == 200 and not _leaked(form.content.decode())

    # when the editor renames the channel and sends the (masked) headers back as shown
    shown = re.search(r'<textarea name="headers"[^>]*>(.*?)</textarea>', form.content.decode(), re.S).group(1)

    saved = editor.post(
        f"/admin/channels/channel/{channel.pk}/change/",
        {"name": "renamed", "url": channel.url, "timeout": "5", "headers": html.unescape(shown), "active": "on"},
    )

    # then the name changed and every credential is still the stored one
    assert saved.status_code == 302, saved.content[:2000]
    channel.refresh_from_db()
    assert channel.name == "renamed" and channel.headers == CREDENTIALS


def test_the_admin_channel_page_shows_values_to_a_user_who_may_reveal(channel):
    page = _browser(_user("revealer", [*VIEW_PERMS, "channels.reveal_secret"])).get(
        f"/admin/channels/channel/{channel.pk}/change/"
    )
    assert "cred-private-6" in page.content.decode()


def test_a_patch_that_sends_masked_values_back_keeps_the_credentials_and_takes_the_new_ones(channel):
    editor = token_client(_user("editor", [*VIEW_PERMS, "channels.change_channel"]))
    shown = editor.get(f"/api/v1/channels/{channel.pk}/").json()["headers"]

    response = editor.patch(
        f"/api/v1/channels/{channel.pk}/", {"headers": {**shown, "X-Tenant": "new-tenant", "X-New": "n"}}, format="json"
    )

    assert response.status_code == 200, response.content
    channel.refresh_from_db()
    assert channel.headers == {**CREDENTIALS, "X-Tenant": "new-tenant", "X-New": "n"}
    assert response.json()["headers"]["X-New"] == MASK  # the answer is masked for this user too


# --- The helpers the engine calls ------------------------------------------------------


def test_mask_custom_headers_masks_every_custom_value_whatever_its_name_and_keeps_the_envelope():
    sent = {
        **{name.lower() if i % 2 else name: value for i, (name, value) in enumerate(CREDENTIALS.items())},
        "Content-Type": "application/json",
        "User-Agent": "Postbacks/0.1.0",
        "webhook-id": "evt",
        "webhook-timestamp": "1",
        "webhook-signature": "v1,abc",
    }

    logged = mask_custom_headers(CREDENTIALS, sent)

    assert not _leaked(repr(logged))
    assert all(logged[name] == MASK for name in sent if name.lower() in {n.lower() for n in CREDENTIALS})
    assert logged["webhook-signature"] == "v1,abc" and logged["Content-Type"] == "application/json"
    assert list(logged) == list(sent)


def test_headers_for_masks_for_anonymous_and_platform_code():
    assert headers_for(CREDENTIALS, user=None) == {name: MASK for name in CREDENTIALS}
    assert headers_for(None, user=None) == {}


def test_keep_masked_values_only_restores_names_that_were_stored():
    assert keep_masked_values({"X-Api-Key": MASK, "X-Other": MASK}, {"X-Api-Key": "k"}) == {
        "X-Api-Key": "k",
        "X-Other": MASK,
    }
    assert keep_masked_values(["not", "a", "mapping"], {"X-Api-Key": "k"}) == ["not", "a", "mapping"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("https://h.example/p?token=abc&x=1", "https://h.example/p?token=***&x=***"),
        ("https://h.example/p?token=abc#frag", "https://h.example/p?token=***#frag"),
        ("https://h.example/p?flag&key=", "https://h.example/p?flag&key="),
        ("https://h.example/p", "https://h.example/p"),
        (
            "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /hook?api_key=s3cr3t (Caused by x)",
            "HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded with url: /hook?api_key=*** (Caused by x)",
        ),
        ('POST /hook?sig=a%2Fb&t=2 HTTP/1.1" 200', 'POST /hook?sig=***&t=*** HTTP/1.1" 200'),
    ],
)
def test_mask_query_strings_masks_every_value_and_keeps_the_names(text, expected):
    assert mask_query_strings(text) == expected


# --- The logs ----------------------------------------------------------------------


def test_the_http_clients_debug_log_shows_no_query_string_value(caplog):
    caplog.set_level(logging.DEBUG)
    with Receiver() as receiver:
        channel = Channel.objects.create(name="q", kind="postback", url=receiver.url("/hook?token=q-secret-99"))
        superuser = _user("root", [], staff=True)
        superuser.is_superuser = True
        superuser.save()
        response = token_client(superuser).post(f"/api/v1/channels/{channel.pk}/test/")
        assert response.status_code == 200 and response.json()["response_status"] == 200
        assert receiver.requests[0].path == "/hook?token=q-secret-99"  # the token was really sent

    client_lines = [r.getMessage() for r in caplog.records if r.name.startswith("urllib3")]
    assert any("/hook?token=***" in line for line in client_lines), client_lines  # the line is there, masked
    assert not any("q-secret-99" in r.getMessage() for r in caplog.records)


def test_the_attempt_log_stores_every_custom_header_value_and_query_value_masked():
    with Receiver() as receiver:
        channel = Channel.objects.create(
            name="log", kind="postback", url=receiver.url("/hook?token=q-secret-99"), headers=CREDENTIALS
        )
        subscribe(channel, "contact.created")
        emit("contact.created", source="shop", payload={"contact": {"id": "C-1"}})
        Dispatcher(threads=2).run(budget_s=10)
        assert receiver.requests[0].headers["x-access-key"] == "cred-access-5"  # sent in clear

    attempt = Attempt.objects.get(delivery__channel=channel)
    stored = repr({f.name: getattr(attempt, f.name) for f in Attempt._meta.fields})
    assert attempt.request_headers["webhook-id"]  # the envelope's own headers stay readable
    assert "q-secret-99" not in stored
    assert not _leaked(stored), _leaked(stored)
