"""`make run`'s demo: the login is kept, the channels follow the served address, the login is printed framed."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from channels.models import Channel
from webhooks_project.management.commands.demo_setup import base_url_of, login_banner

pytestmark = pytest.mark.django_db


def run_demo_setup(*args) -> str:
    out = StringIO()
    call_command("demo_setup", *args, stdout=out)
    return out.getvalue()


def test_an_existing_demo_users_password_is_left_alone(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "first-password")
    run_demo_setup()
    user = get_user_model().objects.get(username="demo")
    hashed = user.password

    run_demo_setup()

    user.refresh_from_db()
    assert user.password == hashed  # not re-hashed: sessions stay valid
    assert user.check_password("first-password")


def test_a_changed_password_is_kept_and_not_shown(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "first-password")
    run_demo_setup()
    user = get_user_model().objects.get(username="demo")
    user.set_password("chosen-by-the-user")
    user.save()

    output = run_demo_setup()

    user.refresh_from_db()
    assert user.check_password("chosen-by-the-user")
    assert "first-password" not in output and "its password was changed" in output


def test_the_demo_channels_post_to_the_address_served():
    run_demo_setup("--base-url", "http://127.0.0.1:8001")
    assert Channel.objects.get(name="Demo receiver").url == "http://127.0.0.1:8001/demo/receiver/"
    assert Channel.objects.get(name="Team chat (Slack)").url == "http://127.0.0.1:8001/demo/slack/"

    run_demo_setup("--base-url", "http://127.0.0.1:8002/")
    assert Channel.objects.get(name="Demo receiver").url == "http://127.0.0.1:8002/demo/receiver/"


@pytest.mark.parametrize(
    ("addrport", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("8001", "http://127.0.0.1:8001"),
        ("0.0.0.0:8002", "http://127.0.0.1:8002"),
        ("localhost:9000", "http://localhost:9000"),
    ],
)
def test_the_base_url_follows_serves_address(addrport, url):
    assert base_url_of(addrport) == url


def test_the_login_is_framed(monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "pw-123")
    run_demo_setup("--no-banner")

    lines = login_banner("http://127.0.0.1:8001").splitlines()

    assert lines[0] == lines[-1] and set(lines[0]) == {"+", "-"}
    assert all(line.startswith("|") and line.endswith("|") and len(line) == len(lines[0]) for line in lines[1:-1])
    assert any("Login:    demo / pw-123" in line for line in lines)
    assert any("http://127.0.0.1:8001/admin/" in line for line in lines)
