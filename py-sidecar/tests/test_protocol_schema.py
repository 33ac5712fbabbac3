"""schema_check on the shapes zod renders (literals below are z.toJSONSchema output) beyond today's args."""
import pytest

from sempress_sidecar.schema_check import Invalid, compile_schema

INT = {"type": "integer", "minimum": -9007199254740991, "maximum": 9007199254740991}
# z.tuple([z.number().int(), z.number().int()])
PAIR = {"type": "array", "prefixItems": [INT, INT], "items": False, "minItems": 2, "maxItems": 2}
# z.object({a: z.record(z.string(), z.number()), b: z.object({x: z.number()}).strict(), c: TensorBytes.nullable().optional()})
OBJ = {"type": "object", "properties": {
    "a": {"type": "object", "propertyNames": {"type": "string"}, "additionalProperties": {"type": "number"}},
    "b": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"], "additionalProperties": False},
    "c": {"anyOf": [{"x-msgpack": "bin"}, {"type": "null"}]}}, "required": ["a", "b"]}


def fails(schema, value):
    with pytest.raises(Invalid) as e:
        compile_schema(schema)(value)
    return e.value.line("v")


def test_tuples_are_checked_position_by_position():
    assert compile_schema(PAIR)((3, 4)) == [3, 4]
    assert fails(PAIR, [1]) == "v must have at least 2 item(s), got 1"
    assert fails(PAIR, [1, 2, 3]) == "v must have at most 2 item(s), got 3"
    assert fails({"type": "array", "items": PAIR}, [[1, 2], [1, "b"]]) == "v[1][1] must be an integer, got str 'b'"


def test_records_strict_objects_and_nullable_bytes():
    check = compile_schema(OBJ)
    assert check({"a": {"k": 1}, "b": {"x": 2}}) == {"a": {"k": 1.0}, "b": {"x": 2.0}, "c": None}
    assert check({"a": {}, "b": {"x": 2}, "c": b"\x00"})["c"] == b"\x00"
    assert check({"a": {}, "b": {"x": 2}, "c": None})["c"] is None
    assert fails(OBJ, {"a": {"k": "1"}, "b": {"x": 2}}) == "v.a.k must be a number, got str '1'"
    assert fails(OBJ, {"a": {}, "b": {"x": 2, "y": 3}}) == "v.b.y is not a known field"
    assert fails(OBJ, {"a": {}, "b": {"x": 2}, "c": "t"}) == "v.c must be binary (msgpack bin), got str 't'"
    assert fails(OBJ, {"a": {3: 1}, "b": {"x": 2}}).startswith("v.a has a key 3 that must be a string")


def test_type_lists_other_than_nullable_and_unknown_keywords_are_refused_at_compile_time():
    for bad in ({"type": "string", "pattern": "^a"}, {"type": ["string", "integer"]}, {"type": "date"},
                {"type": "object", "properties": {}, "required": ["x"]}, {"anyOf": []}, {"minimum": 1}):
        with pytest.raises(ValueError):
            compile_schema(bad)


def test_defaults_are_checked_once_and_numbers_become_floats():
    check = compile_schema({"type": "object", "properties": {"t": {"default": 1, "type": "number"}}})
    assert check({}) == {"t": 1.0} and type(check({})["t"]) is float
    with pytest.raises(Invalid):
        compile_schema({"type": "object", "properties": {"t": {"default": "x", "type": "number"}}})
