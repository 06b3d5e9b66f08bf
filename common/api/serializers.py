"""Input serializers that refuse what they do not know or a value of another JSON type, and a UUID that must be a
JSON string."""

import uuid

from django.db import models
from rest_framework import serializers

from common.api.naming import unknown_names_errors

_TYPE_MESSAGES = {
    bool: "Must be true or false (a JSON boolean).",
    int: "Must be a whole number (a JSON number, not a string).",
    str: "Must be a string.",
}


def json_type(field) -> type | None:
    """The one JSON type a field takes (``bool``, ``int``, ``str``), or None when DRF's own parsing is enough.

    DRF coerces for HTML forms: ``0`` and ``"yes"`` are booleans, ``"5"`` and ``5.0`` integers, ``5`` a
    string. A JSON API that says ``boolean`` in its schema refuses them instead of guessing.
    """
    if isinstance(field, serializers.BooleanField):
        return bool
    if isinstance(field, serializers.IntegerField):
        return int
    if isinstance(field, (serializers.CharField, serializers.ChoiceField)):
        return str
    if isinstance(field, serializers.PrimaryKeyRelatedField) and field.queryset is not None:
        pk = field.queryset.model._meta.pk
        return int if isinstance(pk, (models.AutoField, models.IntegerField)) else str
    return None


def type_errors(fields, data: dict) -> dict[str, list[str]]:
    """``{name: [message]}`` for each value of ``data`` that is not of its field's JSON type (null is DRF's)."""
    errors = {}
    for name, value in data.items():
        field = fields.get(name)
        if field is None or field.read_only or value is None:
            continue
        expected = json_type(field)
        if expected is None:
            continue
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            errors[str(name)] = [_TYPE_MESSAGES[expected]]
    return errors


class StrictFieldsMixin:
    """For a serializer: answer 400 for body fields it does not declare (naming them), instead of dropping them,
    and for a value of another JSON type than its field's (``"enabled": 0``, ``"timeout": "5"``, ``"name": 5``).

    Every API input serializer derives from :class:`StrictSerializer` or mixes this in.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = unknown_names_errors(data.keys(), writable, "field") or type_errors(self.fields, data)
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(StrictFieldsMixin, serializers.Serializer):
    """``Serializer`` with :class:`StrictFieldsMixin`."""


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a JSON string; numbers and booleans are refused (DRF would turn ``123`` into a UUID)."""

    default_error_messages = {
        "invalid": 'Must be a UUID given as a JSON string, e.g. "f47ac10b-58cc-4372-a567-0e02b2c3d479".'
    }

    def to_internal_value(self, data):
        if isinstance(data, uuid.UUID):
            return data
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)
