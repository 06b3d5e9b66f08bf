"""The README's snippets run as written: "Verifying postbacks" against a real postback, the REST API's curl
examples against a live server."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from rest_framework.authtoken.models import Token
from standardwebhooks.webhooks import WebhookVerificationError

from deliveries.models import Delivery
from tests.api.conftest import all_api_perms

pytestmark = pytest.mark.django_db

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_snippet(name: str) -> str:
    match = re.search(rf"<!-- snippet: {re.escape(name)}\b.*?-->\s*```python\n(.*?)```", README.read_text(), re.S)
    assert match, f"README has no python snippet marked {name!r}"
    return match.group(1)


def test_the_readme_snippet_verifies_a_real_postback_and_refuses_a_forged_one(admin_api, receiver):
    # Given a channel created over the API, and the snippet configured with its secret
    created = admin_api.post("/api/v1/channels/", {"name": "integrator", "url": receiver.url("/hook")}).json()
    snippet = {}
    exec(compile(readme_snippet("verify-postback"), "README.md", "exec"), snippet)
    snippet["SIGNING_SECRET"] = created["secret"]

    # When the service sends it a postback
    outcome = admin_api.post(f"/api/v1/channels/{created['id']}/test/").json()
    [request] = receiver.requests
    body, headers = request.body, request.headers

    # Then the snippet accepts it as sent, and refuses it tampered with or signed otherwise
    envelope = snippet["verify_postback"](body, headers)
    assert envelope["eventId"] == outcome["event"] and envelope["eventType"] == "test"
    with pytest.raises(WebhookVerificationError):
        snippet["verify_postback"](body.replace(b'"test"', b'"order.completed"'), headers)
    with pytest.raises(WebhookVerificationError):
        snippet["verify_postback"](body, {**dict(headers), "webhook-id": "another-id"})


@pytest.fixture
def catalogue(transactional_db):
    from tests.support.factories import ensure_catalogue

    ensure_catalogue()


def readme_shell(name: str) -> str:
    match = re.search(rf"<!-- snippet: {re.escape(name)}\b.*?-->\s*```sh\n(.*?)```", README.read_text(), re.S)
    assert match, f"README has no sh snippet marked {name!r}"
    return match.group(1)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_the_readme_curl_examples_run_as_written_against_a_live_server(catalogue, live_server, make_client, receiver):
    # Given a user with a token, and the README's curl block pointed at a live server (and, for the
    # channel's URL, at a local receiver instead of hooks.example.com); each curl also prints its status
    token = Token.objects.get(user=make_client(*all_api_perms(), username="integrator").user).key
    script = readme_shell("api-curl")
    assert script.count("curl -s ") == 4, script
    script = (
        script.replace("http://127.0.0.1:8000", live_server.url)
        .replace("https://hooks.example.com/postbacks", receiver.url("/postbacks"))
        .replace("curl -s ", "curl -sS -w '\\n%{http_code}\\n' ")
    )

    # When the block runs in a shell, as an integrator would paste it
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        env={**os.environ, "TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # Then every call succeeds: the channel (with its secret), the subscription, the type switched on,
    # the event ingested with a delivery to the channel
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    answers = [(json.loads(body), int(status)) for body, status in zip(lines[::2], lines[1::2], strict=True)]
    assert [status for _, status in answers] == [201, 201, 200, 201], result.stdout
    (channel, _), (subscription, _), (event_type, _), (event, _) = answers
    assert channel["id"] == 1 and channel["secret"].startswith("whsec_")
    assert subscription["channel"] == 1 and subscription["sources"] == ["shop", "funnel"]
    assert event_type["enabled"] is True
    assert event["id"] == "f47ac10b-58cc-4372-a567-0e02b2c3d479" and event["order_ref"] == "A-1001"
    assert Delivery.objects.filter(event_id=event["id"], channel_id=1).count() == 1


def test_the_readme_lists_every_error_code_the_schema_documents(anonymous):
    # Given the codes the schema's error components name, and the README's "Codes:" paragraph
    schema = anonymous.get("/api/schema/", {"format": "json"}).json()
    described = schema["components"]["schemas"]["ErrorResponse"]["properties"]["code"]["description"]
    documented = set(re.findall(r"[a-z_]+", described.split(":", 1)[1]))
    paragraph = re.search(r"^Codes: (.*?)\n\n", README.read_text(), re.S | re.M)

    # Then the README names the same codes, each in backticks
    assert paragraph, "README's REST API section has no 'Codes:' paragraph"
    assert set(re.findall(r"`([a-z_]+)`", paragraph.group(1))) == documented
