"""Run one scenario: ``python -m bench.scenarios NAME '{"config": ...}'`` (see ``bench/scenarios/__init__.py``)."""

import importlib
import json
import sys

import django

from bench.scenarios import SCENARIOS

MODULES = ("throughput", "latency", "ingest", "emit", "memory", "admin_scale", "robust")


def main() -> None:
    name, cfg = sys.argv[1], json.loads(sys.argv[2])
    django.setup()
    # Only now: the scenario modules import the apps' models and services.
    for module in MODULES:
        importlib.import_module(f"bench.scenarios.{module}")
    result = SCENARIOS[name](cfg)
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
