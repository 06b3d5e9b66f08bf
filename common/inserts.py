"""``insert_rows``: ``bulk_create`` for a hot path, with the statement's text built once per process.

``Model.objects.bulk_create`` compiles its INSERT anew on every call (field list, quoting,
placeholders, RETURNING); on ``emit``'s path that costs more than the statement itself. This
keeps the text per (model, database, number of rows) and prepares each value the way the
ORM does (``pre_save`` then ``get_db_prep_save``), so stored values are exactly what
``bulk_create`` would store. It returns nothing: no ids are read back (use ``bulk_create``
when the caller needs them). No signals are sent, as with ``bulk_create``.
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Model
from django.db.models.expressions import DatabaseDefault

_statements: dict[tuple, tuple[str, list]] = {}


def _statement(model: type[Model], alias: str, rows: int) -> tuple[str, list]:
    key = (model, alias, rows)
    found = _statements.get(key)
    if found is None:
        connection = connections[alias]
        quote = connection.ops.quote_name
        fields = [f for f in model._meta.local_concrete_fields if not f.generated and f is not model._meta.auto_field]
        columns = ", ".join(quote(f.column) for f in fields)
        one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([one_row] * rows)}"
        found = _statements[key] = (sql, fields)
    return found


def insert_rows(objs: list[Model]) -> None:
    """INSERT ``objs`` (all of one model, none saved yet) in one statement; marks them as saved."""
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    sql, fields = _statement(model, alias, len(objs))
    params = []
    for obj in objs:
        for field in fields:
            value = field.pre_save(obj, add=True)
            if isinstance(value, DatabaseDefault):  # a db_default: not supported here
                raise ValueError(f"insert_rows cannot write {model.__name__}.{field.name} (a database default)")
            params.append(field.get_db_prep_save(value, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
