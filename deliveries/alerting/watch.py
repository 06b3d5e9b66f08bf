"""The periodic checks, run by ``deliveries.tasks.watch`` once a minute. One check's failure never stops the others."""

from __future__ import annotations

import logging

from django.utils import timezone

from deliveries.alerting.alerts import clear_alerts, raise_alerts
from deliveries.alerting.auto_disable import disable_failing_channels
from deliveries.alerting.exhausted import announce_exhausted
from deliveries.alerting.reenable import announce_recovered_elsewhere

logger = logging.getLogger(__name__)

CHECKS = {
    # Recovered first: a channel switched on by hand since the last run is not disabled again at once.
    "recovered": announce_recovered_elsewhere,
    "disabled": disable_failing_channels,
    "exhausted": announce_exhausted,
    "alerts_cleared": clear_alerts,
    "alerts_raised": raise_alerts,
}


def run_checks(*, now=None) -> dict:
    """Run every check; return what each did (a count), or None for a check that raised."""
    now = now or timezone.now()
    done = {}
    for name, check in CHECKS.items():
        try:
            result = check(now=now)
        except Exception:
            logger.exception("The %s check failed; the other checks go on", name)
            done[name] = None
            continue
        done[name] = result if isinstance(result, int) else len(result)
    return done
