"""The scenarios. Each runs in a subprocess of its own:

    python -m bench.scenarios NAME '{"config": ...}'

with DATABASE_URL / REDIS_URL / Q_CLUSTER_NAME set by bench/run.py, and prints its
figures as the last line of stdout: ``RESULT {json}``. Time is measured with the wall
clock (``time.time()``) wherever it is compared with the receiver's, which is another
process on the same machine.

This package's own module imports nothing of Django: ``__main__`` sets Django up, then
imports the scenario modules (``throughput``, ``latency``, ``ingest``, ``memory``,
``admin_scale``), which register themselves here with ``@scenario``.
"""

SCENARIOS = {}


def scenario(func):
    SCENARIOS[func.__name__] = func
    return func
