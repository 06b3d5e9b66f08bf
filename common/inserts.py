"""Inserts for a hot path (``emit``): statement text built once per process, several run as one.

``Model.objects.bulk_create`` compiles its INSERT anew on every call (field list, quoting,
placeholders, RETURNING); on ``emit``'s path that cost more than the statement itself. Here the
text is kept per (model, database, rows and which of their columns are literal defaults) and each value is prepared the way the ORM
prepares it (``pre_save`` then ``get_db_prep_save``), so what is stored is exactly what
``bulk_create`` would store. No ids are read back (use ``bulk_create`` when the caller needs
them) and no signals are sent, as with ``bulk_create``.

``run_together`` executes several such statements: on PostgreSQL as one statement (the first
ones as data-modifying ``WITH`` parts of the last: one round trip instead of several, and all or
nothing); elsewhere one after the other (SQLite has no round trip to save).
"""

from __future__ import annotations

import re

from django.db import connections, router
from django.db.models import DateField, Field, Model
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields import NOT_PROVIDED as models_NOT_PROVIDED

_fields: dict[tuple, list] = {}
_texts: dict[tuple, str] = {}
_NOT_CONSTANT = object()
_CONSTANT_TYPES = (type(None), bool, int, str)
_PLAIN_TEXT = re.compile(r"[A-Za-z0-9_.\-]*")  # nothing to quote or escape in a SQL string literal


def _constant_default(field: Field, connection):
    """(the field's default, its prepared value, its SQL literal or None) when a value equal to the default
    can be prepared once per process, else ``_NOT_CONSTANT``.

    Such a field is a Django field of its own (no custom preparation, such as an encrypted one), whose
    ``pre_save`` only reads the value (not ``auto_now``), with a fixed default: None, a bool, an int or a
    str (the value must be of the same type to count as the default). None, bools, ints and plain
    strings are written as literals in the statement's text, so that they are not parameters: a statement of emit's has
    fewer than psycopg's 50, under which it keeps the converted text instead of parsing it each time.
    """
    if type(field).__module__.split(".")[0] != "django":
        return _NOT_CONSTANT
    if type(field).pre_save is not Field.pre_save and not (
        isinstance(field, DateField) and not field.auto_now and not field.auto_now_add
    ):
        return _NOT_CONSTANT
    if (field.has_default() and callable(field.default)) or field.db_default is not models_NOT_PROVIDED:
        return _NOT_CONSTANT
    raw = field.get_default()
    if not isinstance(raw, _CONSTANT_TYPES):  # str and int subclasses too: choices members (TextChoices)
        return _NOT_CONSTANT
    prepared = field.get_db_prep_save(raw, connection)
    if prepared is None:
        literal = "NULL"
    elif type(prepared) is bool:
        literal = ("TRUE" if prepared else "FALSE") if connection.vendor == "postgresql" else str(int(prepared))
    elif isinstance(prepared, int):  # psycopg's Int2/Int4 wrappers (how Django binds ints on PostgreSQL) too
        literal = str(int(prepared))
    elif isinstance(prepared, str) and _PLAIN_TEXT.fullmatch(prepared):  # '' or a choice such as 'pending'
        literal = f"'{prepared}'"
    else:
        literal = None
    return raw, prepared, literal


class Statement:
    """One INSERT (or upsert) to run, with its parameters; ``saved``: the instances it writes."""

    def __init__(self, sql: str, params: list, *, alias: str, saved: list[Model] | None = None):
        self.sql, self.params, self.alias, self.saved = sql, params, alias, saved or []


def _columns(model: type[Model], alias: str) -> list:
    """(field, ``_constant_default``) of each column an INSERT writes."""
    key = (model, alias)
    found = _fields.get(key)
    if found is None:
        connection = connections[alias]
        found = _fields[key] = [
            (f, _constant_default(f, connection))
            for f in model._meta.local_concrete_fields
            if not f.generated and f is not model._meta.auto_field
        ]
    return found


def _text(model: type[Model], alias: str, rows: tuple[int, ...]) -> str:
    """The INSERT's text for rows written as ``rows`` says: per row, a bit set for each column written as
    its literal default (bit ``i``: the ``i``-th column), a placeholder for the others."""
    key = (model, alias, rows)
    found = _texts.get(key)
    if found is None:
        quote = connections[alias].ops.quote_name
        fields = _columns(model, alias)
        columns = ", ".join(quote(f.column) for f, _ in fields)
        values = ", ".join(
            "(" + ", ".join(c[2] if row >> i & 1 else "%s" for i, (_, c) in enumerate(fields)) + ")" for row in rows
        )
        found = _texts[key] = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES {values}"
    return found


def insert_statement(objs: list[Model]) -> Statement:
    """The INSERT of ``objs`` (all of one model, none saved yet), as one statement."""
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = _columns(model, alias)
    params = []
    rows = []
    for obj in objs:
        literals = 0
        for i, (field, constant) in enumerate(fields):
            if constant is not _NOT_CONSTANT:
                value = getattr(obj, field.attname)
                # The default itself (same type and value: 0 is not False): prepared once, above.
                if type(value) is type(constant[0]) and value == constant[0]:
                    if constant[2] is not None:
                        literals |= 1 << i
                    else:
                        params.append(constant[1])
                    continue
            value = field.pre_save(obj, add=True)
            if isinstance(value, DatabaseDefault):
                raise ValueError(f"insert_statement cannot write {model.__name__}.{field.name} (a database default)")
            params.append(field.get_db_prep_save(value, connection))
        rows.append(literals)
    return Statement(_text(model, alias, tuple(rows)), params, alias=alias, saved=objs)


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
