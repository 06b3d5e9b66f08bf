"""``rows_by``: ``Model.objects.in_bulk`` for a hot path, with the SELECT's text built once per process.

The ORM compiles a query anew on every call; for a lookup by key on every ``emit`` (when the
routing rows are not kept per process) that cost several times the statement. Values come back
through the same converters the ORM applies (``from_db_value``, the backend's), and instances are
made with ``Model.from_db``, as a queryset makes them.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Model

_texts: dict[tuple, tuple[str, list, list]] = {}


def _text(model: type[Model], alias: str, field_name: str, count: int):
    key = (model, alias, field_name, count)
    found = _texts.get(key)
    if found is None:
        connection = connections[alias]
        quote = connection.ops.quote_name
        meta = model._meta
        fields = list(meta.concrete_fields)
        columns = ", ".join(quote(f.column) for f in fields)
        where = quote(meta.get_field(field_name).column)
        placeholders = ", ".join(["%s"] * count)
        sql = f"SELECT {columns} FROM {quote(meta.db_table)} WHERE {where} IN ({placeholders})"
        converters = []
        for field in fields:
            col = field.get_col(meta.db_table)
            # What the compiler applies to a selected column: the backend's converters, then the field's.
            converters.append((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
        found = _texts[key] = (sql, fields, converters)
    return found


def rows_by(model: type[Model], field_name: str, values) -> dict:
    """The instances of ``model`` whose ``field_name`` is one of ``values``, by that field's value."""
    values = list(values)
    if not values:
        return {}
    alias = router.db_for_read(model)
    connection = connections[alias]
    sql, fields, converters = _text(model, alias, field_name, len(values))
    field = model._meta.get_field(field_name)
    params = [field.get_db_prep_value(v, connection) for v in values]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    attnames = [f.attname for f in fields]
    found = {}
    for row in rows:
        converted = []
        for value, (col, field_converters) in zip(row, converters, strict=True):
            for converter in field_converters:
                value = converter(value, col, connection)
            converted.append(value)
        obj = model.from_db(alias, attnames, converted)
        found[getattr(obj, field.attname)] = obj
    return found
