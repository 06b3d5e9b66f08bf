"""API pagination: numbered pages for small tables, cursor pages (no COUNT) for big ones."""

import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination


class StrictPageSize:
    """``page_size`` from 1 to ``max_page_size``; anything else is a 400 naming it, not a silent default."""

    def get_page_size(self, request):
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        try:
            size = int(given)
        except ValueError:
            size = None
        if size is None or not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update({"minimum": 1, "maximum": self.max_page_size, "default": self.page_size})
                parameter["description"] = f"Results per page, 1 to {self.max_page_size} (default {self.page_size})."
            elif parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"]["minimum"] = 1
        return parameters


class PageNumberPages(StrictPageSize, PageNumberPagination):
    """Small tables (event types, channels, subscriptions): numbered pages."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request, paginator):
        # DRF reads ``?page=`` as page 1; like an empty filter, it is a 400 naming it.
        if request.query_params.get(self.page_query_param) == "":
            raise exceptions.ValidationError({self.page_query_param: ["Give a value, or leave the parameter out."]})
        return super().get_page_number(request, paginator)


class NewestFirstCursorPages(StrictPageSize, CursorPagination):
    """Big tables (events, deliveries): cursor pages, no COUNT, stable under inserts.

    Ordered by ``-id`` unless the viewset names other indexed keys in ``cursor_ordering``.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_ordering(self, request, queryset, view):
        ordering = getattr(view, "cursor_ordering", self.ordering)
        return (ordering,) if isinstance(ordering, str) else tuple(ordering)

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        """DRF's cursor, with its position checked against the ordering field.

        A cursor is client input: a forged position ("p=abc" for an id, a date-time with an
        offset PostgreSQL refuses) would otherwise reach the database and fail there.
        """
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        field = self._model._meta.get_field(self.ordering[0].lstrip("-"))
        try:
            position = field.to_python(cursor.position)
            if isinstance(position, datetime.datetime):
                position = position.astimezone(datetime.UTC)
            elif isinstance(position, int) and not -(2**63) <= position < 2**63:
                raise ValueError(position)
        except (DjangoValidationError, ValueError, TypeError, OverflowError) as exc:
            raise exceptions.NotFound(self.invalid_cursor_message) from exc
        return Cursor(offset=cursor.offset, reverse=cursor.reverse, position=str(position))
