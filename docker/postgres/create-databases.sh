#!/bin/sh
# Runs once, on the first start of an empty PostgreSQL volume (docker-entrypoint-initdb.d):
# one database and one owner role each for Keycloak and the bridge, so neither can touch the other.
set -eu
: "${KEYCLOAK_DB_PASSWORD:?set KEYCLOAK_DB_PASSWORD}"
: "${BRIDGE_DB_PASSWORD:?set BRIDGE_DB_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v kc_pw="$KEYCLOAK_DB_PASSWORD" -v bridge_pw="$BRIDGE_DB_PASSWORD" <<'SQL'
CREATE ROLE keycloak LOGIN PASSWORD :'kc_pw';
CREATE DATABASE keycloak OWNER keycloak;
CREATE ROLE backup_codes LOGIN PASSWORD :'bridge_pw';
CREATE DATABASE backup_codes OWNER backup_codes;
REVOKE ALL ON DATABASE keycloak FROM PUBLIC;
REVOKE ALL ON DATABASE backup_codes FROM PUBLIC;
SQL
