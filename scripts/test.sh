#!/usr/bin/env bash
# The one test command: set the machine up (idempotent), lint, then run the whole pytest suite.
# Extra arguments go to pytest, e.g. `scripts/test.sh tests/unit/domain/test_core_codes.py -x`.
#
# Exit status: pytest's, except that "no tests collected" (5) counts as a failure, and a clean
# pytest run still fails when ruff found problems.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/bootstrap.sh

echo "==> ruff check ."
ruff_status=0
.venv/bin/ruff check . || ruff_status=$?

# In CI, a safety net well inside the 90-minute budget: SIGINT lets pytest print its summary and run
# fixture teardown (stopping Keycloak, slapd, PostgreSQL) before exiting. Not used interactively,
# where timeout's own process group would keep Ctrl-C from reaching pytest.
guard=()
if [ "${CI:-}" = "true" ]; then
    guard=(timeout --signal=INT --kill-after=120 "${TEST_TIMEOUT:-80m}")
fi
echo "==> pytest"
pytest_status=0
"${guard[@]}" .venv/bin/pytest -q -ra --durations=10 "$@" || pytest_status=$?

if [ "$pytest_status" -eq 5 ]; then
    echo "test.sh: pytest collected no tests; that counts as a failure" >&2
    exit 1
fi
if [ "$pytest_status" -eq 124 ]; then
    echo "test.sh: pytest did not finish within ${TEST_TIMEOUT:-80m}" >&2
fi
if [ "$pytest_status" -ne 0 ]; then
    exit "$pytest_status"
fi
if [ "$ruff_status" -ne 0 ]; then
    echo "test.sh: tests passed but ruff check failed (see above)" >&2
    exit "$ruff_status"
fi
