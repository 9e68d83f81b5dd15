"""The gate decides the same way every run: under CI=true (as locally) Hypothesis is derandomized with no
example database, and schemathesis gets the same seed every time (tests/conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import json
import tests.conftest
from hypothesis import settings
from tests.unit.http.test_api_openapi import fuzz_run
print(json.dumps({
    "profile": settings.get_current_profile_name(),
    "derandomize": settings.default.derandomize,
    "database": repr(settings.default.database),
    "seeds": [fuzz_run().seed, fuzz_run().seed],
}))
"""


def gate_settings() -> dict[str, object]:
    """What a fresh interpreter gets from loading the suite's conftest with CI=true."""
    env = {**os.environ, "CI": "true"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_under_ci_hypothesis_is_derandomized_without_an_example_database() -> None:
    probed = gate_settings()
    assert probed["derandomize"] is True
    assert probed["database"] == "None"


def test_under_ci_schemathesis_gets_the_same_seed_every_run() -> None:
    first, second = gate_settings()["seeds"], gate_settings()["seeds"]  # type: ignore[index]
    assert first == second
    assert first[0] == first[1]
