"""The demo receiver (SPEC section 6): mounted only under DEBUG or WEBHOOKS_DEMO=true, throttled,
bounded, and purged with retention. The test settings mount it (WEBHOOKS_DEMO=true), so these
tests remount the URLconf the way each setting would have it at start-up."""

import datetime as dt
import importlib

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.urls import clear_url_caches
from django.utils import timezone

from deliveries import demo_views
from deliveries.models import DemoReceipt
from deliveries.services import purge_old_records
from tests.security.helpers import run_with_real_settings

pytestmark = pytest.mark.django_db

DEMO_PATHS = ["/demo/receiver/", "/demo/slack/"]


@pytest.fixture
def mount(settings):
    """Rebuild the URLconf as start-up would with the given DEBUG and WEBHOOKS_DEMO."""
    import webhooks_project.urls

    original = (django_settings.DEBUG, django_settings.WEBHOOKS_DEMO)

    def remount(*, debug: bool, demo: bool):
        settings.DEBUG, settings.WEBHOOKS_DEMO = debug, demo
        importlib.reload(webhooks_project.urls)
        clear_url_caches()

    yield remount
    settings.DEBUG, settings.WEBHOOKS_DEMO = original
    importlib.reload(webhooks_project.urls)
    clear_url_caches()


@pytest.fixture(autouse=True)
def fresh_rate_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize("path", DEMO_PATHS)
def test_with_debug_off_the_demo_endpoints_do_not_exist(mount, client, path):
    mount(debug=False, demo=False)
    response = client.post(path, data=b'{"text": "hi"}', content_type="application/json")
    assert response.status_code == 404
    assert DemoReceipt.objects.count() == 0


@pytest.mark.parametrize("debug,demo", [(True, False), (False, True)], ids=["DEBUG", "WEBHOOKS_DEMO"])
def test_debug_or_the_explicit_setting_mounts_them(mount, client, debug, demo):
    mount(debug=debug, demo=demo)
    response = client.post("/demo/slack/", data=b'{"text": "hi"}', content_type="application/json")
    assert response.status_code == 200 and DemoReceipt.objects.count() == 1


def test_the_production_settings_mount_no_demo_endpoint():
    """The real settings, started as in production (DEBUG off, WEBHOOKS_DEMO unset)."""
    code = (
        "import django; django.setup(); from django.urls import resolve, Resolver404\n"
        "for path in ('/demo/receiver/', '/demo/slack/', '/admin/'):\n"
        "    try:\n        resolve(path); print(path, 'mounted')\n"
        "    except Resolver404:\n        print(path, 'absent')\n"
    )
    result = run_with_real_settings(["-c", code], drop=("DEBUG", "WEBHOOKS_DEMO"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[:3] == ["/demo/receiver/ absent", "/demo/slack/ absent", "/admin/ mounted"]


@pytest.mark.parametrize("path", DEMO_PATHS)
def test_anonymous_floods_are_throttled_per_address_and_store_nothing_more(settings, client, path):
    settings.WEBHOOKS_DEMO_RATE_PER_MIN = 5
    statuses = [
        client.post(path, data=b'{"text": "x"}', content_type="application/json", REMOTE_ADDR="203.0.113.9").status_code
        for _ in range(8)
    ]
    assert statuses[5:] == [429, 429, 429], statuses
    assert all(status != 429 for status in statuses[:5])
    assert DemoReceipt.objects.count() == 5
    # another address has its own allowance
    other = client.post(path, data=b'{"text": "x"}', content_type="application/json", REMOTE_ADDR="203.0.113.10")
    assert other.status_code != 429


def test_only_the_newest_receipts_are_kept(settings, monkeypatch, client):
    settings.WEBHOOKS_DEMO_RATE_PER_MIN = 1000
    monkeypatch.setattr(demo_views, "MAX_RECEIPTS", 10)
    monkeypatch.setattr(demo_views, "TRIM_EVERY", 1)
    for n in range(25):
        client.post("/demo/slack/", data=b'{"text": "%d"}' % n, content_type="application/json")
    kept = list(DemoReceipt.objects.order_by("pk").values_list("body", flat=True))
    assert kept == [str(n) for n in range(15, 25)]


def test_receipts_older_than_the_retention_are_purged():
    old = DemoReceipt.objects.create(event_type="old", headers={}, body="old")
    DemoReceipt.objects.filter(pk=old.pk).update(received_at=timezone.now() - dt.timedelta(days=31))
    recent = DemoReceipt.objects.create(event_type="recent", headers={}, body="recent")

    purged = purge_old_records(days=30)

    assert purged["demo_receipts"] == 1
    assert list(DemoReceipt.objects.values_list("pk", flat=True)) == [recent.pk]
