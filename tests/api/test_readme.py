"""The README's "Verifying postbacks" snippet, run as written against a real postback."""

import re
from pathlib import Path

import pytest
from standardwebhooks.webhooks import WebhookVerificationError

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
