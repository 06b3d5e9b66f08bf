"""The quick payload check (``events.validation._quick_check``) never calls valid what jsonschema calls invalid."""

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.catalogue.examples import ORDER
from events.validation import _quick_check

ORDER_SCHEMA = {
    "type": "object",
    "properties": {
        "order": {
            "type": "object",
            "properties": {
                "id": {"type": ["string", "integer"]},
                "total": {"type": "number"},
                "flag": {"type": "boolean"},
                "none": {"type": "null"},
                "funnel": {},
                "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}}}},
            },
            "required": ["id"],
        }
    },
    "required": ["order"],
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["order", "id", "total", "flag", "none", "items", "sku", "x"]), children, max_size=4
        )
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_quick_check_agrees_with_jsonschema_when_it_says_valid(value):
    quick = _quick_check(ORDER_SCHEMA)
    if quick(value):
        assert jsonschema.Draft202012Validator(ORDER_SCHEMA).is_valid(value)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_quick_check_agrees_with_jsonschema_on_the_nested_schema(value):
    schema = {"order": value}
    wrapped = {"type": "object", "properties": {"order": ORDER_SCHEMA["properties"]["order"]}}
    if _quick_check(wrapped)(schema):
        assert jsonschema.Draft202012Validator(wrapped).is_valid(schema)


def test_quick_check_passes_a_real_order_and_refuses_wrong_types():
    quick = _quick_check(ORDER_SCHEMA)
    assert quick({"order": {"id": "B-1", "total": 12.5, "items": [{"sku": "a"}]}})
    assert not quick({"order": {"id": True}})  # a boolean is no integer
    assert not quick({"order": {"total": 1}})  # id required
    assert not quick({"order": {"id": 1, "items": [{"sku": 3}]}})
    assert not quick({})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "string", "minLength": 2},
        {"type": "object", "additionalProperties": False},
        {"$ref": "#/$defs/x"},
        {"type": "object", "properties": {"a": {"enum": [1]}}},
        {"type": "unknown"},
        {"items": [{"type": "string"}]},
        False,
    ],
)
def test_schemas_with_other_keywords_get_no_quick_check(schema):
    assert _quick_check(schema) is None


def test_the_catalogue_order_example_passes_the_quick_check(db):
    from events.models import EventType
    from events.validation import _validators_for

    event_type = EventType.objects.get(key="order.completed")
    _validator, quick = _validators_for(event_type.payload_schema)
    assert quick is not None and quick({"order": ORDER})
