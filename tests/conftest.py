"""Shared fixtures: each real part (PostgreSQL, SMTP, slapd, Keycloak, a served bridge) has its own plugin.

Hypothesis profiles: the test gate must decide the same way on every run (CI=true or not), so the
suite runs the ``deterministic`` profile (derandomized, no example database) unless
``--hypothesis-profile`` chooses another. ``fuzz`` is the wide randomized run of ``scripts/fuzz.sh``:
random seeds (``--hypothesis-seed`` replays one) and ``FUZZ_EXAMPLES`` examples per test. The
schemathesis test follows the active profile (see ``tests/unit/http/test_api_openapi.py``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DETERMINISTIC_PROFILE = "deterministic"
FUZZ_PROFILE = "fuzz"

settings.register_profile(DETERMINISTIC_PROFILE, derandomize=True, database=None, print_blob=True)
settings.register_profile(
    FUZZ_PROFILE,
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "500")),
    derandomize=False,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# Loaded before the hypothesis plugin reads --hypothesis-profile, so only an explicit choice overrides it.
settings.load_profile(DETERMINISTIC_PROFILE)

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.smtp",
    "tests.fixtures.slapd",
    "tests.fixtures.keycloak",
    "tests.fixtures.bridge_server",
    "tests.fixtures.cluster",
]
