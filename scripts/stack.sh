#!/usr/bin/env bash
# The one run command: bring the machine up to date, then start the whole stack locally.
# Options go to scripts/stack.py (e.g. --reset, --keycloak-port 18080); Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
exec .venv/bin/python scripts/stack.py "$@"
