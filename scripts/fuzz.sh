#!/usr/bin/env bash
# The wide, randomized run of the property and fuzz tests: every test module that uses Hypothesis or
# schemathesis, under the `fuzz` Hypothesis profile (tests/conftest.py) with a random seed and many more
# examples than the gate. The gate (scripts/test.sh) runs the same tests derandomized and seeded, so it
# decides the same way every run; this script looks further and prints the seed, so a finding replays.
#
#   scripts/fuzz.sh                              # random seed, 500 examples per test
#   FUZZ_SEED=123 FUZZ_EXAMPLES=2000 scripts/fuzz.sh -x -k schemathesis
#
# Extra arguments go to pytest. Exit status: pytest's (0 means no findings).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x .venv/bin/pytest ] || scripts/bootstrap.sh

seed="${FUZZ_SEED:-$(.venv/bin/python -c 'import secrets; print(secrets.randbelow(2**32))')}"
export FUZZ_EXAMPLES="${FUZZ_EXAMPLES:-500}"
# A stateful example is a sequence of up to 25 calls, each with Argon2: fewer of them.
export STATEFUL_EXAMPLES="${STATEFUL_EXAMPLES:-$((FUZZ_EXAMPLES / 5 > 30 ? FUZZ_EXAMPLES / 5 : 30))}"
mapfile -t modules < <(grep -rlE '^(from hypothesis|import hypothesis|import schemathesis)' --include='test_*.py' tests)

echo "==> fuzz: seed $seed, $FUZZ_EXAMPLES examples per test ($STATEFUL_EXAMPLES stateful), ${#modules[@]} modules"
.venv/bin/pytest -q -ra -p no:cacheprovider --hypothesis-profile=fuzz --hypothesis-seed="$seed" \
    "${modules[@]}" "$@"
status=$?
if [ "$status" -eq 0 ]; then
    echo "==> fuzz: seed $seed: no findings"
else
    echo "==> fuzz: seed $seed: findings above; replay with: FUZZ_SEED=$seed FUZZ_EXAMPLES=$FUZZ_EXAMPLES scripts/fuzz.sh" >&2
fi
exit "$status"
