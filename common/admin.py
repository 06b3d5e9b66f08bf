"""Admin helpers shared by the staff pages: a paginator that never counts a big table,
the read-only mixin of the log admins, and small pieces of form and redirect handling.

The dashboard itself is rendered on the admin index by the ``delivery_dashboard``
template tag (``deliveries/templatetags``), so the default admin site stays in use.
"""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme

# Up to this many rows a filtered changelist shows an exact count; beyond it an estimate.
EXACT_COUNT_CAP = 10_000


def estimated_row_count(queryset) -> int | None:
    """The planner's row estimate for ``queryset`` on PostgreSQL (None elsewhere).

    EXPLAIN reads statistics only, so it answers at once however big the table is.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # psycopg returns json as text with some settings
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Counts at most ``EXACT_COUNT_CAP + 1`` rows; above that, PostgreSQL's estimate.

    ``COUNT(*)`` over millions of deliveries takes seconds; a capped count is an
    index range scan of a few thousand entries. On SQLite (the embedded run) the
    count above the cap is reported as the cap, which only shortens the page links.
    """

    cap = EXACT_COUNT_CAP

    @cached_property
    def count(self):
        queryset = self.object_list
        capped = queryset.order_by()[: self.cap + 1].count()
        if capped <= self.cap:
            return capped
        estimate = estimated_row_count(queryset.order_by())
        return max(estimate or 0, capped)

    @cached_property
    def is_estimated(self) -> bool:
        return self.count > self.cap


class ReadOnlyAdminMixin:
    """Log admins are read-only (``django_q/admin.py``): no add, no change, no delete; view permission only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ServiceAuditedAdminMixin:
    """For admins whose saves and deletes go through services: the service writes the audit
    entry (``common.audit``), with the same words as over the API, so the admin's own is left out."""

    def log_addition(self, request, obj, message):
        return None

    def log_change(self, request, obj, message):
        return None

    def log_deletion(self, request, obj, object_repr):
        return None

    def log_deletions(self, request, queryset):
        return None


def add_form_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form, by field where the form has that field."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def safe_next_url(request, next_url: str) -> str | None:
    """``next_url`` when it points back at this site (a ``next`` parameter is user input), else None."""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return None
