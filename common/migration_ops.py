"""Migration helpers: drop the index a ``ForeignKey`` made for itself, without rebuilding the constraint.

``AlterField(..., db_index=False)`` on a foreign key drops and re-adds its constraint (Django alters the
column as a whole), and re-adding it checks every row under a lock that blocks writes: minutes on a
large delivery log. Only the index needs to go, so ``drop_field_indexes`` changes the state as
``AlterField`` would and, in the database, drops the field's own single-column index (and
PostgreSQL's ``_like`` twin of a text column) by name; the indexes in ``Meta.indexes`` stay.
"""

from __future__ import annotations

from django.db import migrations, models


def _drop(app_label: str, model_name: str, field_names: list[str]):
    def forwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        declared = {index.name for index in model._meta.indexes}
        for name in field_names:
            column = model._meta.get_field(name).column
            found = schema_editor._constraint_names(
                model, [column], index=True, type_=models.Index.suffix, exclude=declared
            )
            for index_name in found:
                schema_editor.execute(schema_editor._delete_index_sql(model, index_name))
            if schema_editor.connection.vendor == "postgresql":  # DROP INDEX IF EXISTS: gone already is fine
                like = schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")
                schema_editor.execute(schema_editor._delete_index_sql(model, like))

    def backwards(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        for name in field_names:
            field = model._meta.get_field(name)
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
            like = (
                schema_editor._create_like_index_sql(model, field)
                if hasattr(schema_editor, "_create_like_index_sql")
                else None
            )
            if like is not None:
                schema_editor.execute(like)

    return migrations.RunPython(forwards, backwards)


def drop_field_indexes(app_label: str, model_name: str, fields: dict[str, models.Field]):
    """The operation that sets ``fields`` (name: the new field, ``db_index=False``) and drops their old indexes."""
    return migrations.SeparateDatabaseAndState(
        state_operations=[
            migrations.AlterField(model_name=model_name, name=name, field=field) for name, field in fields.items()
        ],
        database_operations=[_drop(app_label, model_name, list(fields))],
    )


def drop_like_index(app_label: str, model_name: str, field_name: str):
    """Drop PostgreSQL's ``varchar_pattern_ops`` twin of a text column's index (it serves only ``LIKE 'x%'``
    on the column itself; ``istartswith`` compares ``UPPER(column)`` and cannot use it). Nothing elsewhere;
    the migration state does not record these indexes, so it does not change."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        column = model._meta.get_field(field_name).column
        like = schema_editor._create_index_name(model._meta.db_table, [column], suffix="_like")
        schema_editor.execute(schema_editor._delete_index_sql(model, like))

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        model = apps.get_model(app_label, model_name)
        like = schema_editor._create_like_index_sql(model, model._meta.get_field(field_name))
        if like is not None:
            schema_editor.execute(like)

    return migrations.RunPython(forwards, backwards)
