"""Every free-text input has a length limit, every list a size limit, every body a ceiling.

Read from the OpenAPI document, so a new endpoint or field without a limit fails here by
name: request bodies and query parameters (``$ref``, ``anyOf`` and nested objects followed; path
parameters are one URL segment, bounded by the server's request-line limit, and the views
refuse long ones themselves). A string counts as bounded with ``maxLength``, an
``enum``/``const``, a date/time format (parsed, so a long value fails at once), or an
anchored pattern without unbounded repetition (``^[0-9]{9,12}$``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from onestop.extensions import db
from onestop.queueing.models import Ticket
from tests.conftest import bearer, demo_app, token_for

PARSED_FORMATS = ("date", "date-time", "time")  # parsed by Pydantic: a long value fails at once


def bounded_pattern(pattern: str) -> bool:
    """An anchored pattern with no unbounded repetition (``*``, ``+``, ``{n,}``)."""
    bare = re.sub(r"\\.", "", pattern)  # escaped characters (``\+``) repeat nothing
    return (bare.startswith("^") and bare.endswith("$") and not re.search(r"[*+]|\{\d*,\}", bare))


@pytest.fixture(scope="module")
def spec_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with demo_app(tmp_path_factory.mktemp("limits")) as app:
        yield app


@pytest.fixture(scope="module")
def spec(spec_app: Any) -> dict[str, Any]:
    res = spec_app.test_client().get("/api/v1/openapi.json")
    assert res.status_code == 200, f"the OpenAPI document answered {res.status_code}: {res.data[:200]!r}"
    return dict(res.get_json())


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def unbounded(spec: dict[str, Any], schema: dict[str, Any], where: str, seen: frozenset[str] = frozenset()
              ) -> Iterator[str]:
    """Paths (``where``) of strings without a length limit and lists without a size limit."""
    ref = schema.get("$ref")
    if ref in seen:
        return
    schema = _resolve(spec, schema)
    seen = seen | {ref} if ref else seen
    for key in ("anyOf", "oneOf", "allOf"):
        for part in schema.get(key, []):
            yield from unbounded(spec, part, where, seen)
    kind = schema.get("type")
    if kind == "string" and not ("maxLength" in schema or "enum" in schema or "const" in schema
                                 or schema.get("format") in PARSED_FORMATS
                                 or bounded_pattern(schema.get("pattern", ""))):
        yield f"{where}: string without maxLength"
    if kind == "array":
        if "maxItems" not in schema:
            yield f"{where}: list without maxItems"
        yield from unbounded(spec, schema.get("items", {}), f"{where}[]", seen)
    for name, prop in (schema.get("properties") or {}).items():
        yield from unbounded(spec, prop, f"{where}.{name}", seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from unbounded(spec, extra, f"{where}.*", seen)


def test_every_input_string_and_list_is_bounded(spec):
    problems = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if not isinstance(op, dict):
                continue
            where = f"{method.upper()} {path}"
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    continue  # one URL segment: bounded by the server's request-line limit
                problems += unbounded(spec, param.get("schema", {}), f"{where} {param['in']} {param['name']}")
            for media, body in (op.get("requestBody") or {}).get("content", {}).items():
                problems += unbounded(spec, body.get("schema", {}), f"{where} body({media})")
    assert not problems, "inputs without a limit (add max_length / max_items):\n  " + "\n  ".join(problems)


def test_the_rule_catches_a_field_without_a_limit(spec):
    """The walk above is not vacuous: a schema with an open string and list is reported."""
    loose = {"type": "object", "properties": {"note": {"type": "string"},
                                              "tags": {"type": "array", "items": {"type": "string"}}}}
    assert bounded_pattern(r"^(\+84)?[0-9]{9,11}$") and not bounded_pattern(r"^[a-z]+$")
    assert not bounded_pattern(r"^\d{4,}$") and not bounded_pattern("[0-9]{4}")
    assert sorted(unbounded(spec, loose, "x")) == ["x.note: string without maxLength",
                                                   "x.tags: list without maxItems",
                                                   "x.tags[]: string without maxLength"]
    counted = sum(1 for ops in spec["paths"].values() for op in ops.values()
                  if isinstance(op, dict) and op.get("requestBody"))
    assert counted >= 15  # the document really describes the bodies


def test_oversized_bodies_are_refused_and_change_nothing(tmp_path: Path) -> None:
    with demo_app(tmp_path) as app:
        client = app.test_client()
        token = token_for(client, "admin")
        limit = int(app.config["MAX_CONTENT_LENGTH"])
        padding = "A" * (limit + 1024)
        with app.app_context():
            before = db.session.scalar(select(func.count()).select_from(Ticket))
        for url, body in [("/api/v1/tickets", {"service_id": 1, "priority": padding}),
                          ("/api/v1/dossiers", {"procedure_code": padding}),
                          ("/api/v1/counters/1/pause", {"reason": padding})]:
            res = client.post(url, json=body, headers=bearer(token))
            assert res.status_code == 413, (url, res.status_code)
            assert res.get_json()["error"]["code"] == "payload_too_large"
        with app.app_context():
            assert db.session.scalar(select(func.count()).select_from(Ticket)) == before


def test_long_free_text_is_refused_with_422(tmp_path: Path) -> None:
    """A field one character past its limit: 422 validation_error, nothing stored."""
    with demo_app(tmp_path) as app:
        client = app.test_client()
        token = token_for(client, "clerk1")
        assert client.post("/api/v1/counters/1/open", headers=bearer(token)).status_code == 200
        res = client.post("/api/v1/counters/1/pause", json={"reason": "x" * 201}, headers=bearer(token))
        assert res.status_code == 422 and res.get_json()["error"]["code"] == "validation_error"
        applicant = {"name": "N" * 201, "id_number": "001090012345", "phone": "0912345678"}
        res = client.post("/api/v1/dossiers", headers=bearer(token),
                          json={"procedure_code": "1.001193", "applicant": applicant})
        assert res.status_code == 422
        counters = client.get("/api/v1/counters").get_json()["counters"]
        assert next(c for c in counters if c["number"] == 1)["state"] == "open"
