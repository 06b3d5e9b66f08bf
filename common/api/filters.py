"""Query-parameter filters every list shares, and their OpenAPI description with the bounds they enforce."""

import django_filters
from django import forms
from drf_spectacular.contrib.django_filters import DjangoFilterExtension

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A positive integer id (NumberFilter would take decimals and out-of-range numbers)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """``true`` or ``false``, as the schema's boolean is written in a query; anything else is an error, not "no filter"."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """django-filter's boolean takes ``null``, ``abc`` or ``2`` as "no filter" and lists everything."""

    field_class = StrictBooleanField


class StrictFilterSet(django_filters.FilterSet):
    """A filter given with an empty value is an error (400 naming it), except for plain strings.

    django-filter skips an empty value: ``?created_after=`` or ``?event=`` listed everything, as if the
    parameter were not there. An empty string is a valid value only where the schema says ``string``
    without a format (``order_ref=``, which then matches nothing or is ignored as before).
    """

    def is_valid(self):
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if type(filter_) is django_filters.CharFilter or name not in self.data:
                continue
            if self.data.get(name) == "" and name not in self.form.errors:
                self.form.add_error(name, "Give a value, or leave the parameter out.")
                valid = False
        return valid


_BOUNDS = (("min_value", "minimum"), ("max_value", "maximum"), ("max_length", "maxLength"))


class BoundedFilterExtension(DjangoFilterExtension):
    """drf-spectacular's django-filter parameters, with the bounds the filters enforce.

    Its own extension leaves out ``min_value``, ``max_value`` and ``max_length`` and documents an
    :class:`IdFilter` on a foreign key as a ``number``: the schema then promised that ``channel=0``
    or ``channel=1.5`` are valid while the API answers 400. Registered by being defined (this module
    is imported by every filterset).
    """

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        for parameter in parameters:
            schema = parameter["schema"]
            if issubclass(filter_field.field_class, forms.IntegerField):
                schema["type"] = "integer"
                schema.pop("format", None)
            for option, keyword in _BOUNDS:
                if filter_field.extra.get(option) is not None:
                    schema[keyword] = filter_field.extra[option]
        return parameters
