"""Input serializers that refuse what they do not know, and a UUID that must be a JSON string."""

import uuid

from rest_framework import serializers

from common.api.naming import unknown_names_errors


class StrictFieldsMixin:
    """For a serializer: answer 400 for body fields it does not declare (naming them), instead of dropping them.

    Every API input serializer derives from :class:`StrictSerializer` or mixes this in.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            errors = unknown_names_errors(data.keys(), writable, "field")
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
