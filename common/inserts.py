"""Inserts for a hot path (``emit``): statement text built once per process, several run as one.

``Model.objects.bulk_create`` compiles its INSERT anew on every call (field list, quoting,
placeholders, RETURNING); on ``emit``'s path that cost more than the statement itself. Here the
text is kept per (model, database, number of rows) and each value is prepared the way the ORM
prepares it (``pre_save`` then ``get_db_prep_save``), so what is stored is exactly what
``bulk_create`` would store. No ids are read back (use ``bulk_create`` when the caller needs
them) and no signals are sent, as with ``bulk_create``.

``run_together`` executes several such statements: on PostgreSQL as one statement (the first
ones as data-modifying ``WITH`` parts of the last: one round trip instead of several, and all or
nothing); elsewhere one after the other (SQLite has no round trip to save).
"""

from __future__ import annotations

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields import NOT_PROVIDED as models_NOT_PROVIDED

_texts: dict[tuple, tuple[str, list]] = {}
_NOT_CONSTANT = object()
_CONSTANT_TYPES = (type(None), bool, int, str)


def _constant_default(field: Field, connection):
    """(the field's default, its prepared value) when a value equal to the default can be prepared once per
    process, else ``_NOT_CONSTANT``: a Django field of its own (no custom preparation, such as an encrypted
    one), without ``pre_save`` of its own (``auto_now``), whose default is a fixed None, bool, int or str (the same type is required of the value at use)."""
    if type(field).__module__.split(".")[0] != "django" or type(field).pre_save is not Field.pre_save:
        return _NOT_CONSTANT
    if (field.has_default() and callable(field.default)) or field.db_default is not models_NOT_PROVIDED:
        return _NOT_CONSTANT
    raw = field.get_default()
    if not isinstance(raw, _CONSTANT_TYPES):  # str and int subclasses too: choices members (TextChoices)
        return _NOT_CONSTANT
    return raw, field.get_db_prep_save(raw, connection)


class Statement:
    """One INSERT (or upsert) to run, with its parameters; ``saved``: the instances it writes."""

    def __init__(self, sql: str, params: list, *, alias: str, saved: list[Model] | None = None):
        self.sql, self.params, self.alias, self.saved = sql, params, alias, saved or []


def _text(model: type[Model], alias: str, rows: int) -> tuple[str, list]:
    key = (model, alias, rows)
    found = _texts.get(key)
    if found is None:
        quote = connections[alias].ops.quote_name
        fields = [f for f in model._meta.local_concrete_fields if not f.generated and f is not model._meta.auto_field]
        columns = ", ".join(quote(f.column) for f in fields)
        one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {', '.join([one_row] * rows)}"
        connection = connections[alias]
        found = _texts[key] = (sql, [(f, _constant_default(f, connection)) for f in fields])
    return found


def insert_statement(objs: list[Model]) -> Statement:
    """The INSERT of ``objs`` (all of one model, none saved yet), as one statement."""
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    sql, fields = _text(model, alias, len(objs))
    params = []
    for obj in objs:
        for field, constant in fields:
            if constant is not _NOT_CONSTANT:
                value = getattr(obj, field.attname)
                # The default itself (same type and value: 0 is not False): prepared once, above.
                if type(value) is type(constant[0]) and value == constant[0]:
                    params.append(constant[1])
                    continue
            value = field.pre_save(obj, add=True)
            if isinstance(value, DatabaseDefault):
                raise ValueError(f"insert_statement cannot write {model.__name__}.{field.name} (a database default)")
            params.append(field.get_db_prep_save(value, connection))
    return Statement(sql, params, alias=alias, saved=objs)


def run_together(statements: list[Statement]) -> None:
    """Execute ``statements`` (INSERTs, of one database, none of them reading another's rows)."""
    statements = [s for s in statements if s is not None]
    if not statements:
        return
    alias = statements[0].alias
    connection = connections[alias]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and len(statements) > 1:
            parts = ", ".join(f"w{i} AS ({s.sql})" for i, s in enumerate(statements[:-1]))
            cursor.execute(f"WITH {parts} {statements[-1].sql}", [p for s in statements for p in s.params])
        else:
            for statement in statements:
                cursor.execute(statement.sql, statement.params)
    for statement in statements:
        for obj in statement.saved:
            obj._state.adding = False
            obj._state.db = alias


def insert_rows(objs: list[Model]) -> None:
    """INSERT ``objs`` (all of one model, none saved yet) in one statement; marks them as saved."""
    if objs:
        run_together([insert_statement(objs)])
