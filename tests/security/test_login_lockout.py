"""Admin login throttling (SPEC section 6) with django-axes: after repeated failures for one user
name from one address, that pair is locked out, even with the right password; superusers see
the lockouts in the admin. Driven through the real login form (the test settings switch axes
off for the test client's ``login()``, which passes no request; these tests switch it on)."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.security.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    return settings


def _login(client, username, password, address="198.51.100.7"):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def _logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def test_the_right_password_logs_in_before_any_failure(axes_on):
    make_user("superuser")
    assert _logged_in(_login(Client(), "root", PASSWORD))


def test_after_five_failures_the_user_is_locked_out_from_that_address_even_with_the_right_password(axes_on):
    make_user("superuser")
    guesser = Client()

    failures = [_login(guesser, "root", f"guess-{n}") for n in range(5)]
    locked = _login(guesser, "root", PASSWORD)

    assert all(r.status_code == 200 for r in failures[:4])  # the form again, with its error
    assert not _logged_in(locked)
    assert locked.status_code in (403, 429), locked.status_code
    assert b"locked" in locked.content.lower()
    attempt = AccessAttempt.objects.get(username="root")
    assert attempt.failures_since_start >= 5 and attempt.ip_address == "198.51.100.7"


def test_the_lockout_is_per_user_and_address(axes_on):
    make_user("superuser")
    make_user("viewer")
    for n in range(5):
        _login(Client(), "root", f"guess-{n}")

    # the same user from another address, and another user from the same address, still log in
    assert _logged_in(_login(Client(), "root", PASSWORD, address="198.51.100.99"))
    assert _logged_in(_login(Client(), "viewer", PASSWORD))


def test_failures_below_the_limit_are_forgotten_after_a_successful_login(axes_on):
    make_user("superuser")
    client = Client()
    for n in range(4):
        _login(client, "root", f"guess-{n}")
    assert _logged_in(_login(client, "root", PASSWORD))
    for n in range(4):
        _login(Client(), "root", f"guess-again-{n}")
    assert _logged_in(_login(Client(), "root", PASSWORD))


def test_superusers_see_the_lockouts_and_staff_do_not(axes_on):
    make_user("superuser")
    viewer = make_user("viewer")
    for n in range(5):
        _login(Client(), "root", f"guess-{n}")

    admin = Client()
    admin.force_login(make_superuser_from_other_address())
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "198.51.100.7" in page.content.decode()

    staff = Client()
    staff.force_login(viewer)
    assert staff.get("/admin/axes/accessattempt/").status_code == 403


def make_superuser_from_other_address():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_superuser("second-admin", "second@example.com", PASSWORD)
