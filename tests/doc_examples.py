"""The JSON examples of the project's Markdown, and how their keys compare with a schema or an answer.

An example block is marked with the request it shows, on the line before its fence:

    <!-- answer: POST /predict?top_k=3 -->         the answer (2xx) to that request
    <!-- answer: POST /artists 415 -->             an error answer, with its status
    <!-- request: POST /v2/models/x/infer -->      a request body

Any other comment before a ``json`` fence (e.g. ``<!-- a log line, not an answer -->``) marks a
block that is neither; a ``json`` fence without a comment is unmarked.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FENCE = re.compile(r"(?:<!-- (.*?) -->\n)?```json\n(.*?)```", re.S)
MARK = re.compile(r"(answer|request): (GET|POST|DELETE) (\S+?)(?: (\d{3}))?")


@dataclass(frozen=True)
class Example:
    """One marked block: where it is, what it shows, and its parsed JSON."""

    where: str  # "README.md:42"
    kind: str  # "answer" or "request"
    method: str
    url: str  # path and query, as sent
    status: int | None  # None: the operation's success status
    body: Any

    @property
    def path(self) -> str:
        return self.url.split("?", 1)[0]

    @property
    def succeeded(self) -> bool:
        """An answer to a request that succeeded (2xx), as opposed to an error or a request."""
        return self.kind == "answer" and (self.status is None or self.status < 300)


def json_blocks(markdown: Path, root: Path) -> list[tuple[str, str | None, str]]:
    """Every ``json`` block of ``markdown``: ``(file:line, its comment or None, its text)``."""
    text = markdown.read_text(encoding="utf-8")
    name = markdown.relative_to(root).as_posix()
    return [
        (f"{name}:{text.count(chr(10), 0, m.start()) + 1}", m.group(1), m.group(2))
        for m in FENCE.finditer(text)
    ]


def examples(markdown: Path, root: Path) -> list[Example]:
    """The answer and request examples of ``markdown``; a block that is not JSON raises, naming it."""
    found = []
    for where, comment, text in json_blocks(markdown, root):
        mark = MARK.fullmatch(comment or "")
        if not mark:
            continue
        try:
            body = json.loads(text)
        except json.JSONDecodeError as e:
            raise AssertionError(f"{where}: the example is not JSON ({e}); trim lists, do not elide") from e
        kind, method, url, status = mark.groups()
        found.append(Example(where, kind, method, url, int(status) if status else None, body))
    return found


def operation(spec: dict[str, Any], method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The OpenAPI template and operation that serve ``method path`` (literal templates first)."""
    templates = sorted(spec["paths"], key=lambda t: ("{" in t, t))
    for template in templates:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in spec["paths"][template]:
            return template, spec["paths"][template][method.lower()]
    raise AssertionError(f"the service has no {method} {path}")


def resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


SCALARS: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float)}


def schema_problems(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str) -> list[str]:
    """How ``value`` departs from ``schema``: unknown or missing keys, wrong types, values off an enum."""
    schema = resolve(schema, spec)
    options = schema.get("anyOf") or schema.get("oneOf")
    if options:
        tried = [schema_problems(value, option, spec, where) for option in options]
        return [] if any(not problems for problems in tried) else min(tried, key=len)
    if "enum" in schema and value not in schema["enum"]:
        return [f"{where}: {value!r} is not one of {schema['enum']}"]
    kind = schema.get("type")
    if kind == "null":
        return [] if value is None else [f"{where}: expected null, documented {value!r}"]
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{where}: expected a boolean, documented {value!r}"]
    if kind in SCALARS:
        ok = isinstance(value, SCALARS[kind]) and not isinstance(value, bool)
        return [] if ok else [f"{where}: expected {kind}, documented {value!r}"]
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: expected a list, documented {value!r}"]
        items = schema.get("items", {})
        return [p for i, v in enumerate(value) for p in schema_problems(v, items, spec, f"{where}[{i}]")]
    if kind == "object" or "properties" in schema:
        return _object_problems(value, schema, spec, where)
    return []


def _object_problems(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str) -> list[str]:
    if not isinstance(value, dict):
        return [f"{where}: expected an object, documented {value!r}"]
    properties: dict[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    problems = []
    if properties and not isinstance(extra, dict):
        unknown = sorted(set(value) - set(properties))
        problems += [f"{where}: documented keys the service does not answer: {unknown}"] if unknown else []
    missing = sorted(set(schema.get("required", ())) - set(value))
    problems += [f"{where}: keys the service always answers are missing: {missing}"] if missing else []
    for key, item in value.items():
        sub = properties.get(key, extra if isinstance(extra, dict) else None)
        if sub is not None:
            problems += schema_problems(item, sub, spec, f"{where}.{key}")
    return problems


def key_problems(documented: Any, real: Any, where: str) -> list[str]:
    """Where the keys of ``documented`` differ from those of a real answer ``real``, recursively.

    A documented list is compared item by item with the real list's first item (lists are
    trimmed in the docs); values of other types are not compared (they differ by input).
    """
    if isinstance(documented, dict) and isinstance(real, dict):
        problems = []
        if set(documented) != set(real):
            problems.append(f"{where}: documented keys {sorted(documented)}, answered {sorted(real)}")
        for key in sorted(set(documented) & set(real)):
            problems += key_problems(documented[key], real[key], f"{where}.{key}")
        return problems
    if isinstance(documented, list) and isinstance(real, list) and real:
        return [p for i, item in enumerate(documented) for p in key_problems(item, real[0], f"{where}[{i}]")]
    return []


def flat(data: Any) -> list[Any]:
    """Row-major values of a flat or nested list."""
    return [v for item in data for v in flat(item)] if isinstance(data, list) else [data]
