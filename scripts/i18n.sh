#!/usr/bin/env bash
# Message catalogs of the mails and the code sheet (bridge/locale), with Babel's pybabel:
#   scripts/i18n.sh extract        refresh bridge/locale/messages.pot from the code and templates
#   scripts/i18n.sh update         merge the .pot into every bridge/locale/<locale>/LC_MESSAGES/messages.po
#   scripts/i18n.sh init <locale>  start a catalog for a new locale (e.g. de, pt_BR, zh_Hant)
#   scripts/i18n.sh compile        compile every .po to .mo (run by bootstrap.sh and the Dockerfile)
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL="${PYBABEL:-$( [ -x .venv/bin/pybabel ] && echo .venv/bin/pybabel || echo pybabel )}"
POT=bridge/locale/messages.pot

case "${1:-}" in
  extract)
    "$PYBABEL" extract -F babel.cfg -c "Translators:" --add-location=file --sort-by-file \
      --project=keycloak-backup-codes --copyright-holder="keycloak-backup-codes contributors" \
      --msgid-bugs-address="" -o "$POT" bridge
    ;;
  update)
    "$PYBABEL" update -i "$POT" -d bridge/locale --ignore-obsolete --no-fuzzy-matching
    ;;
  init)
    "$PYBABEL" init -i "$POT" -d bridge/locale -l "${2:?which locale?}"
    ;;
  compile)
    "$PYBABEL" compile -d bridge/locale --statistics
    ;;
  *)
    sed -n '2,6p' "$0" >&2
    exit 2
    ;;
esac
