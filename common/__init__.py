"""Helpers every app shares: admin pieces, REST API plumbing, permission checks.

The bottom layer: it imports Django, DRF and the standard library, never an app of
this project (``docs/ARCHITECTURE.md``).
"""
