"""Pieces every REST API view shares: permissions, pagination, throttling, parsing, errors, schema.

The API only translates between HTTP and the services; the rules live in the services and
models. What is here makes every refusal a clear 4xx in DRF's shape (``{"field": ["message"]}``
or ``{"detail": "..."}``) instead of a 500. Settings name these classes by their paths
(``REST_FRAMEWORK`` in ``webhooks_project/settings.py``).
"""
