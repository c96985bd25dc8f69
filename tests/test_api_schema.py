"""Property-based run of schemathesis against the service's own OpenAPI schema.

Every operation gets generated requests, valid and invalid; whatever they hold, the service must
answer without a 5xx and with a response that its schema describes (status, content type, body).
Bounded (a fixed number of examples per operation, derandomized) so that it finishes in seconds
and fails the same way every time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402


#: the examples that the run posts go to a store of its own, removed when the run ends
_STORE = tempfile.TemporaryDirectory(prefix="nf-schema-")
_APP = create_app(Settings(workers=2, max_bytes=100_000, timeout=10.0,
                           examples_db=Path(_STORE.name) / "examples.db"))
schema = schemathesis.openapi.from_asgi("/openapi.json", _APP)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@schema.parametrize()
@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_response_matches_the_schema(case):
    case.call_and_validate(checks=CHECKS)


def test_decode_has_its_body_and_answer_in_the_schema():
    """`/v1/decode` had no request body in the schema and `{}` as its answer, so a client
    generated from it sent no body and got 415; now the schema names the raw page it takes and
    the `html` it gives back (and the run above posts it pages)."""
    spec = _APP.openapi()
    operation = spec["paths"]["/v1/decode"]["post"]
    body = operation["requestBody"]
    assert body["required"] and set(body["content"]) == {"text/html"}
    assert body["content"]["text/html"]["schema"] == {"type": "string", "format": "binary"}
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    model = spec["components"]["schemas"][answer["$ref"].rsplit("/", 1)[-1]]
    assert model["required"] == ["html"] and model["properties"]["html"]["type"] == "string"
