"""Pieces every REST API view shares: permissions, pagination, throttling, parsing, errors, schema.

The API only translates between HTTP and the services; the rules live in the services and
models. What is here makes every refusal a clear 4xx in the API's one error shape
(``{"code": ..., "detail": ..., "errors": {field: [...]}}``, ``common.api.errors``) instead of a 500,
and every view strict about its input (``common.api.views``, ``common.api.serializers``). Settings name these classes by their paths
(``REST_FRAMEWORK`` in ``webhooks_project/settings.py``).
"""
