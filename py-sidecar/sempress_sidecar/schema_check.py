"""A validator for the JSON Schema subset that zod renders for the wire protocol (see protocol_schema.py).

``compile_schema(schema)`` turns one schema into a check function ``value -> parsed value`` once, at import
time, by building closures (no code generation, no eval). A check returns what zod's ``parse`` would give TS:

- objects keep only their declared properties (zod strips unknown keys); an absent property gets its
  ``default``, or ``None`` when it is optional without one, so every op reads ``args[name]`` directly; a
  ``None`` sent for an optional property that does not accept null counts as absent;
- ``number`` values come back as ``float``; lists stay lists; ``{"x-msgpack": "bin"}`` (TensorBytes) is bytes.

A mismatch raises ``Invalid``; its ``path`` collects ``.field`` / ``[i]`` segments on the way up, so the
caller prints e.g. ``args.items[3].prefix[2] must be an integer, got str '7'``. Keywords outside the subset
raise ``ValueError`` at compile time: a protocol change that needs more must extend this file, never pass
unchecked.

Supported: type (one, or [T, "null"]), properties, required, additionalProperties, propertyNames, default,
const, enum, minimum, maximum, exclusiveMinimum, exclusiveMaximum, items, prefixItems, minItems, maxItems,
anyOf, x-msgpack.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

Check = Callable[[Any], Any]

KEYWORDS = frozenset({
    "type", "properties", "required", "additionalProperties", "propertyNames", "default", "const", "enum",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "items", "prefixItems", "minItems",
    "maxItems", "anyOf", "x-msgpack", "description", "title",
})


class Invalid(Exception):
    """A value that does not match its schema; ``path`` holds segments innermost first."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.path: list[str] = []

    def line(self, root: str) -> str:
        return f"{root}{''.join(reversed(self.path))} {self.message}"


def _show(v: Any) -> str:
    r = repr(v)
    return f"{type(v).__name__} {r if len(r) <= 40 else r[:37] + '...'}"


def _is_int(v: Any) -> bool:
    return type(v) is int or (isinstance(v, int) and not isinstance(v, bool))


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "integer": (_is_int, "an integer"),
    "number": (_is_num, "a number"),
    "string": (lambda v: isinstance(v, str), "a string"),
    "boolean": (lambda v: v is True or v is False, "a boolean"),
    "array": (lambda v: isinstance(v, (list, tuple)), "a list"),
    "object": (lambda v: isinstance(v, dict), "a map"),
    "null": (lambda v: v is None, "null"),
}

_BOUNDS: list[tuple[str, Callable[[Any, Any], bool], str]] = [
    ("minimum", lambda v, b: v < b, ">="),
    ("maximum", lambda v, b: v > b, "<="),
    ("exclusiveMinimum", lambda v, b: v <= b, ">"),
    ("exclusiveMaximum", lambda v, b: v >= b, "<"),
]


def compile_schema(schema: dict) -> Check:
    unknown = set(schema) - KEYWORDS
    if unknown:
        raise ValueError(f"schema keyword(s) {sorted(unknown)} are not supported by schema_check: {schema}")
    if "anyOf" in schema:
        if not schema["anyOf"] or set(schema) - {"anyOf", "default", "description", "title"}:
            raise ValueError(f"anyOf must be non-empty and alone: {schema}")
        return _any_of([compile_schema(b) for b in schema["anyOf"]])
    if schema.get("x-msgpack") == "bin":
        return _bin
    t = schema.get("type")
    if isinstance(t, list):
        rest = [x for x in t if x != "null"]
        if len(rest) != 1 or len(t) != 2:
            raise ValueError(f"type lists other than [T, 'null'] are not supported: {t}")
        inner = compile_schema({**schema, "type": rest[0]})
        return lambda v: None if v is None else inner(v)
    if t is None:
        if set(schema) - {"default", "description", "title"}:
            raise ValueError(f"a schema without a type must be empty: {schema}")
        return lambda v: v
    if t == "array":
        return _array(schema)
    if t == "object":
        return _object(schema)
    if t not in _TYPES:
        raise ValueError(f"type {t!r} is not supported")
    return _scalar(schema, t)


def _scalar(schema: dict, t: str) -> Check:
    ok, name = _TYPES[t]
    tests: list[tuple[Callable[[Any], bool], str]] = []
    if "const" in schema:
        c = schema["const"]
        tests.append((lambda v: v != c, f"must be {c!r}"))
    if "enum" in schema:
        allowed = tuple(schema["enum"])
        tests.append((lambda v: v not in allowed, f"must be one of {', '.join(repr(a) for a in allowed)}"))
    for key, bad, op in _BOUNDS:
        if key in schema:
            b = schema[key]
            tests.append(((lambda v, b=b, bad=bad: bad(v, b)), f"must be {op} {b}"))
    as_float = t == "number"

    def check(v: Any) -> Any:
        if not ok(v):
            raise Invalid(f"must be {name}, got {_show(v)}")
        for failed, message in tests:
            if failed(v):
                raise Invalid(f"{message}, got {v!r}")
        return float(v) if as_float else v

    return check


def _bin(v: Any) -> bytes:
    if isinstance(v, (bytes, bytearray)):
        return bytes(v)
    raise Invalid(f"must be binary (msgpack bin), got {_show(v)}")


def _any_of(branches: list[Check]) -> Check:
    def check(v: Any) -> Any:
        errors = []
        for b in branches:
            try:
                return b(v)
            except Invalid as e:
                errors.append(e)
        raise max(errors, key=lambda e: len(e.path))  # the branch that matched furthest explains best

    return check


def _plain_ints(items: Any) -> bool:
    """True for an items schema that only asks for integers (with bounds): checked in bulk."""
    return isinstance(items, dict) and items.get("type") == "integer" and set(items) <= {"type", "minimum", "maximum"}


def _array(schema: dict) -> Check:
    items = schema.get("items")
    prefix = [compile_schema(p) for p in schema.get("prefixItems", [])]
    if items is False:
        extra = None
    elif isinstance(items, dict):
        extra = compile_schema(items)
    elif items is None:
        extra = lambda v: v  # noqa: E731 - JSON Schema: items absent = anything
    else:
        raise ValueError(f"items must be a schema or false: {items!r}")
    min_n, max_n = schema.get("minItems"), schema.get("maxItems")
    if items is False and max_n is None:
        max_n = len(prefix)
    bulk = _plain_ints(items) and not prefix
    lo, hi = (items.get("minimum"), items.get("maximum")) if bulk else (None, None)

    def check(v: Any) -> Any:
        if not isinstance(v, (list, tuple)):
            raise Invalid(f"must be a list, got {_show(v)}")
        n = len(v)
        if min_n is not None and n < min_n:
            raise Invalid(f"must have at least {min_n} item(s), got {n}")
        if max_n is not None and n > max_n:
            raise Invalid(f"must have at most {max_n} item(s), got {n}")
        # fast path for token-id lists: every element an exact int within bounds, checked by C loops
        if bulk and (n == 0 or (set(map(type, v)) == {int} and (lo is None or min(v) >= lo)
                                 and (hi is None or max(v) <= hi))):
            return v if type(v) is list else list(v)
        out = []
        i = 0
        try:
            for i, x in enumerate(v):
                out.append(prefix[i](x) if i < len(prefix) else extra(x))  # type: ignore[misc]
        except Invalid as e:
            e.path.append(f"[{i}]")
            raise
        return out

    return check


def _fresh(v: Any) -> Callable[[], Any]:
    """A default as a factory: lists and maps are copied per request, so no op can alter the schema's."""
    if isinstance(v, (list, dict)):
        return lambda: copy.deepcopy(v)
    return lambda: v


def _accepts(check: Check, v: Any) -> bool:
    try:
        check(v)
    except Invalid:
        return False
    return True


def _object(schema: dict) -> Check:
    required = set(schema.get("required", ()))
    fields = []
    for name, sub in schema.get("properties", {}).items():
        c = compile_schema(sub)
        default = _fresh(c(sub["default"])) if "default" in sub else (lambda: None)
        fields.append((name, c, name in required, default, _accepts(c, None)))
    declared = frozenset(schema.get("properties", {}))
    missing = set(required) - declared
    if missing:
        raise ValueError(f"required but not declared: {sorted(missing)}")
    extra_schema = schema.get("additionalProperties")
    extra = compile_schema(extra_schema) if isinstance(extra_schema, dict) else None
    key_check = compile_schema(schema["propertyNames"]) if "propertyNames" in schema else None

    def check(v: Any) -> Any:
        if not isinstance(v, dict):
            raise Invalid(f"must be a map, got {_show(v)}")
        if key_check is not None:
            for k in v:
                try:
                    key_check(k)
                except Invalid as e:
                    raise Invalid(f"has a key {k!r} that {e.message}") from None
        if not fields and extra_schema == {}:
            return v  # a record of anything (request.args): nothing to copy or fill
        out = {}
        name = ""
        try:
            for name, c, req, default, nullable in fields:
                x = v.get(name)
                if x is None and (name not in v or not (req or nullable)):
                    if req:
                        raise Invalid("is required")
                    out[name] = default()
                else:
                    out[name] = c(x)
            if extra_schema is False or extra is not None:
                for name, x in v.items():
                    if name in declared:
                        continue
                    if extra is None:
                        raise Invalid("is not a known field")
                    out[name] = extra(x)
        except Invalid as e:
            e.path.append(f".{name}")
            raise
        return out

    return check
