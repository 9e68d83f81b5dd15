"""The provider's JSON fixtures (bridge answers it parses, request bodies it builds) match openapi.json.

Each file under ``plugin/src/test/resources/bridge-fixtures/<Schema>/`` is read by the Java tests
(BridgeJsonTest, BridgeClientTest) and checked here against the published schema of that name, so the
Java side cannot keep passing against a bridge shape the bridge no longer has.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "plugin" / "src" / "test" / "resources" / "bridge-fixtures"
SPEC = json.loads((ROOT / "bridge" / "http" / "openapi.json").read_text(encoding="utf-8"))
CASES = sorted(FIXTURES.glob("*/*.json"))
_REGISTRY = Registry().with_resource("urn:openapi", Resource.from_contents(SPEC, DRAFT202012))


def validator(schema_name: str) -> Draft202012Validator:
    """A validator for one component schema, its ``$ref``s resolved inside openapi.json."""
    assert schema_name in SPEC["components"]["schemas"], f"openapi.json has no schema {schema_name}"
    ref = {"$ref": f"urn:openapi#/components/schemas/{schema_name}"}
    return Draft202012Validator(ref, registry=_REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_java_side_has_fixtures_for_every_answer_it_parses() -> None:
    parsed = {"Status", "VerifyResult", "IssuedSet", "Error", "RegisteredDevice", "DeviceCheck", "Devices"}
    assert parsed <= {path.parent.name for path in CASES}


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_java_fixture_matches_the_published_schema(path: Path) -> None:
    validator(path.parent.name).validate(load(path))


def test_a_fixture_that_drifted_from_the_spec_is_refused() -> None:
    drifted = {k: v for k, v in load(FIXTURES / "VerifyResult" / "valid-low.json").items() if k != "low"}

    with pytest.raises(ValidationError):
        validator("VerifyResult").validate(drifted)
