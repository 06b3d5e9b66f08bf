"""Hostile bodies to the ingest endpoint, POST /api/v1/events/: a clear 4xx, never a 500, nothing stored."""

import json

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from events.models import Event
from tests.security.conftest import make_user
from tests.security.test_hostile_emit import any_text, json_values

pytestmark = pytest.mark.django_db

INGEST = "/api/v1/events/"
FIELDS = {"type", "source", "payload", "id", "occurred_at", "order_ref"}


@pytest.fixture
def api(db, event_type):
    client = APIClient()
    token = Token.objects.create(user=make_user("superuser"))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _post_raw(api, body: bytes, content_type="application/json"):
    return api.generic("POST", INGEST, body, content_type=content_type)


def _assert_refused(response, *statuses):
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert isinstance(data, dict) and data
    # DRF's shape: {"field": [...]} or {"detail": "..."}; never a huge echo of the input.
    assert len(response.content) < 4096, len(response.content)


def _envelope(payload_json: str) -> bytes:
    return ('{"type":"contact.created","source":"shop","payload":' + payload_json + "}").encode()


@pytest.mark.parametrize("opener,closer", [("[", "]"), ('{"a":', "}")], ids=["lists", "objects"])
def test_a_body_nested_100000_levels_deep_is_refused_with_a_4xx(api, opener, closer):
    body = _envelope('{"deep":' + opener * 100_000 + "1" + closer * 100_000 + "}")
    before = Event.objects.count()
    response = _post_raw(api, body)
    _assert_refused(response, 400, 413)
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"type":"contact.created","source":"shop","payload":{"name":"caf\xc3\x28"}}',  # broken 2-byte sequence
        b'{"type":"contact.created","source":"shop","payload":{"x":"\xff\xfe\xfd"}}',
        b'{"type":"contact.created","source":"shop","payload":{"x":"\xed\xa0\x80"}}',  # UTF-8-encoded surrogate
        b'{"type":"contact.created","source":"shop","payload":{"x":"\xc0\xaf"}}',  # overlong "/"
    ],
    ids=["broken", "ff-fe", "encoded-surrogate", "overlong"],
)
def test_invalid_utf8_in_the_body_is_refused_with_400(api, body):
    before = Event.objects.count()
    _assert_refused(_post_raw(api, body), 400)
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    "payload_json",
    ['{"nul":"a\\u0000b"}', '{"a\\u0000":1}', '{"s":"\\ud800"}', '{"\\udfff":1}', '{"n":NaN}', '{"n":Infinity}'],
    ids=["nul-value", "nul-key", "surrogate-value", "surrogate-key", "nan", "infinity"],
)
def test_strings_the_database_cannot_store_are_refused_with_400(api, payload_json):
    before = Event.objects.count()
    _assert_refused(_post_raw(api, _envelope(payload_json)), 400)
    assert Event.objects.count() == before


@pytest.mark.parametrize(
    "field,value",
    [
        ("type", "\ud800"),
        ("type", "a\x00b"),
        ("source", "\ud800"),
        ("order_ref", "\udfff"),
        ("order_ref", "a\x00b"),
        ("id", "\ud800"),
        ("occurred_at", "\x00"),
    ],
)
def test_unstorable_strings_in_envelope_fields_are_refused_with_400(api, field, value):
    body = {"type": "contact.created", "source": "shop", "payload": {}, field: value}
    encoded = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as "\ud800"
    _assert_refused(_post_raw(api, encoded), 400)


def test_a_body_of_10_mb_is_refused_with_413_without_being_stored(api):
    body = _envelope(json.dumps({"blob": "x" * (10 * 1024 * 1024)}))
    _assert_refused(_post_raw(api, body), 413)
    assert not Event.objects.exists()


def test_a_payload_over_the_limit_inside_a_small_enough_body_is_refused_with_413(api, settings):
    settings.WEBHOOKS_MAX_PAYLOAD_BYTES = 1000
    response = api.post(
        INGEST, {"type": "contact.created", "source": "shop", "payload": {"blob": "x" * 2000}}, format="json"
    )
    _assert_refused(response, 413)
    assert "payload" in response.json()["errors"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_body_that_is_not_json_is_refused_with_415(api, content_type):
    _assert_refused(_post_raw(api, b"type=contact.created&source=shop", content_type=content_type), 415)


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b"42", b'"text"', b"{", b'{"type":'], ids=repr)
def test_a_body_that_is_not_an_object_is_refused_with_400(api, body):
    _assert_refused(_post_raw(api, body), 400)


# --- fuzzing ------------------------------------------------------------------

envelope_values = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["contact.created", "order.completed", "test"]) | any_text | json_values,
        "source": st.sampled_from(["admin", "shop", "funnel"]) | any_text | json_values,
        "payload": st.dictionaries(any_text, json_values, max_size=4) | json_values,
        "id": st.uuids().map(str) | any_text | json_values,
        "order_ref": any_text | json_values,
        "occurred_at": st.datetimes().map(lambda d: d.isoformat()) | any_text | json_values,
    },
)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=envelope_values | json_values)
def test_fuzzed_ingest_answers_201_200_or_a_4xx_naming_the_field(api, body):
    try:
        encoded = json.dumps(body).encode()  # ASCII-escaped: lone surrogates travel as \ud800
    except ValueError:
        encoded = repr(body).encode()
    response = _post_raw(api, encoded)

    assert response.status_code in (200, 201, 400, 409, 413), (response.status_code, response.content[:300])
    data = response.json()
    if response.status_code in (200, 201):
        assert Event.objects.filter(pk=data["id"]).exists()
    elif response.status_code == 400:
        assert data["code"] in ("invalid", "parse_error") and data["detail"], data
        # The fields at fault, or a field the API does not know, named as sent.
        # (keys as the server reads them: a surrogate pair sent as two escapes is one character there)
        unknown = set(json.loads(json.dumps(body))) if isinstance(body, dict) else set()
        assert set(data.get("errors", {})) <= FIELDS | unknown | {"non_field_errors"}, data


@hypothesis_settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=st.binary(max_size=300))
def test_fuzzed_raw_bytes_to_ingest_never_cause_a_500(api, body):
    response = _post_raw(api, body)
    assert response.status_code in (200, 201, 400, 409, 413), (response.status_code, response.content[:300])


# --- header injection and unknown ids (SPEC section 6) ---------------------------


@pytest.mark.parametrize(
    "field,value",
    [
        ("headers", {"X-Note": "a\r\nSet-Cookie: session=stolen"}),
        ("headers", {"X-Note": "a\nb"}),
        ("headers", {"X-Note": "a\x00b"}),
        ("headers", {"X-Bad\r\nName": "v"}),
        ("headers", {"X-Bad\n": "v"}),
        ("headers", {"Webhook-Signature": "v1,forged"}),
        ("headers", {"Host": "internal.example"}),
        ("headers", ["not", "an", "object"]),
        ("url", "http://127.0.0.1:9/hook\r\nX-Injected: 1"),
        ("url", "http://127.0.0.1:9/ho ok"),
        ("url", "javascript:alert(1)"),
        ("timeout", 31),
        ("timeout", 0),
    ],
    ids=[
        "crlf-value",
        "lf-value",
        "nul-value",
        "crlf-name",
        "lf-name",
        "reserved-signature",
        "reserved-host",
        "not-object",
        "crlf-url",
        "space-url",
        "js-url",
        "timeout-high",
        "timeout-zero",
    ],
)
def test_a_channel_with_injected_headers_or_a_bad_url_is_refused_on_that_field(api, field, value):
    from channels.models import Channel

    body = {"name": "inject", "kind": "postback", "url": "http://127.0.0.1:9/hook", field: value}
    response = api.post("/api/v1/channels/", body, format="json")
    _assert_refused(response, 400)
    data = response.json()
    # NUL is refused by the JSON parser for the whole body, before any field is looked at.
    assert field in data.get("errors", {}) or "NUL" in data["detail"], data
    assert not Channel.objects.filter(name="inject").exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/channels/999999/",
        "/api/v1/channels/abc/",
        "/api/v1/channels/-1/",
        "/api/v1/subscriptions/99999999999999999999/",
        "/api/v1/events/00000000-0000-0000-0000-000000000000/",
        "/api/v1/events/not-a-uuid/",
        "/api/v1/deliveries/0/",
        "/api/v1/deliveries/999999/retry/",
        "/api/v1/event-types/no.such.type/",
        "/api/v1/event-types/%3Cscript%3E/",
        "/api/v1/nothing-here/",
    ],
)
def test_unknown_or_malformed_ids_answer_a_json_404(api, path):
    method = "post" if path.endswith("/retry/") else "get"
    response = getattr(api, method)(path)
    assert response.status_code == 404, (path, response.status_code, response.content[:200])
    assert response["Content-Type"].startswith("application/json")
