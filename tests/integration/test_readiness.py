"""/readyz against a real qcluster: 503 once its workers stop beating, 200 again when it is back."""

import pytest
from django.test import Client

from tests.support.receiver import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Engines beat every 5 s: a window of 8 s notices a stopped cluster within seconds.
WINDOW_S = 8


def readyz() -> tuple[int, dict]:
    response = Client().get("/readyz")
    return response.status_code, response.json()


def test_readyz_turns_503_when_the_worker_stops_and_200_when_it_is_back(catalogue, clusters, settings):
    settings.WEBHOOKS_WORKER_MAX_AGE_S = WINDOW_S
    cluster = clusters(workers=1).start()
    assert "postbacks-sweeper" in cluster.run_schedules_now()  # the sweeper runs now rather than in 30 s

    # given a running cluster: ready
    wait_until(lambda: readyz()[0] == 200, timeout=60, interval=0.5, message="/readyz 200 with the cluster up")
    assert readyz()[1]["checks"]["workers"]["alive"] == 1

    # when the cluster stops
    cluster.stop(timeout=30)

    # then /readyz says the workers are gone (the sweeper, seen less than 2 min ago, still passes)
    wait_until(lambda: readyz()[0] == 503, timeout=WINDOW_S + 20, interval=0.5, message="/readyz 503, cluster down")
    checks = readyz()[1]["checks"]
    assert checks["workers"]["ok"] is False and checks["workers"]["alive"] == 0
    assert checks["sweeper"]["ok"] is True and checks["database"]["ok"] is True

    # and when it is started again, ready again
    cluster.start()
    wait_until(lambda: readyz()[0] == 200, timeout=60, interval=0.5, message="/readyz 200 with the cluster back")
    cluster.stop(timeout=30)
