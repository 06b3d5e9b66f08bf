"""The recover flow in a real Chromium with a real qcluster: preview count, start, progress bar to done."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_recover_from_the_channel_page_and_watch_the_progress_bar_reach_done(
    logged_in, live_server, receiver, screenshot
):
    from deliveries.models import RecoverJob
    from tests.support.factories import failed_deliveries, postback_channel, subscribe
    from tests.support.qcluster import QCluster

    # given 400 deliveries that failed during an outage, and a real worker recovering 20 rows a batch
    channel = postback_channel(receiver.url("/hook"), name="Fulfilment")
    subscription = subscribe(channel, "contact.created")
    since = timezone.now() - dt.timedelta(minutes=1)
    failed_deliveries(subscription, 400, occurred_at=since)
    cluster = QCluster(workers=1, env={"WEBHOOKS_RECOVER_BATCH": "20", "WEBHOOKS_RECOVER_BUDGET_S": "0.2"})
    cluster.route_kicks_here()
    cluster.start()
    try:
        # when staff open the channel, ask how many the recover will resend, then start it
        page = logged_in
        page.goto(f"{live_server.url}/admin/channels/channel/{channel.pk}/change/")
        page.click("#recover-link")
        page.fill("#id_since", timezone.localtime(since - dt.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S"))
        page.get_by_role("button", name="Count what it will resend").click()
        expect(page.locator("#recover-count")).to_contain_text("400 failed deliveries will be resent")
        page.click("#recover-start")

        # then the channel page's progress bar follows the job to done, with its summary
        box = page.locator("#recover")
        expect(box.locator(".recover-state")).to_have_text("Done", timeout=90_000)
        expect(box.locator(".recover-counts")).to_have_text("400 / 400")
        expect(box.locator(".recover-summary")).to_contain_text("Resent 400 of 400")
        assert page.locator("#recover progress").evaluate("p => p.value === p.max")
        screenshot(page, "channel-recover")
        assert RecoverJob.objects.get().resent == 400
    except Exception:
        print(cluster.log())
        raise
    finally:
        cluster.stop()
