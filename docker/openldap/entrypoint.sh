#!/bin/sh
# Writes slapd.conf from the environment, loads the demo entries on the first start, then runs slapd
# in the foreground. LDAP_ADMIN_PASSWORD is required; LDAP_DEMO_PASSWORD sets the demo users' password.
set -eu
: "${LDAP_ADMIN_PASSWORD:?set LDAP_ADMIN_PASSWORD}"
SUFFIX="${LDAP_SUFFIX:-dc=example,dc=org}"
ROOT_DN="cn=admin,$SUFFIX"
DATA=/var/lib/openldap
CONF="$DATA/slapd.conf"

umask 077
mkdir -p "$DATA/db"
cat > "$CONF" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/namedobject.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile /run/slapd/slapd.pid
database mdb
maxsize 1073741824
suffix "$SUFFIX"
rootdn "$ROOT_DN"
rootpw $(slappasswd -s "$LDAP_ADMIN_PASSWORD")
directory $DATA/db
index objectClass,uid,entryUUID,entryCSN eq
overlay ppolicy
ppolicy_default "cn=default,ou=policies,$SUFFIX"
ppolicy_use_lockout
ppolicy_hash_cleartext
CONF

if [ ! -f "$DATA/.seeded" ]; then
    slapd -f "$CONF" -h "ldap://127.0.0.1:1389/" -d 0 &
    pid=$!
    until ldapsearch -x -H ldap://127.0.0.1:1389 -s base -b "" namingContexts >/dev/null 2>&1; do sleep 0.2; done
    printf '%s' "$LDAP_ADMIN_PASSWORD" > "$DATA/.seed-password"
    sed -e "s/@SUFFIX@/$SUFFIX/g" -e "s/@DEMO_PASSWORD@/${LDAP_DEMO_PASSWORD:?set LDAP_DEMO_PASSWORD}/g" \
        /etc/ldap/demo.ldif.template > "$DATA/.seed.ldif"
    ldapadd -x -H ldap://127.0.0.1:1389 -D "$ROOT_DN" -y "$DATA/.seed-password" -f "$DATA/.seed.ldif" >/dev/null
    rm -f "$DATA/.seed-password" "$DATA/.seed.ldif"
    kill "$pid"; wait "$pid" || true
    touch "$DATA/.seeded"
fi

exec slapd -f "$CONF" -h "ldap://0.0.0.0:1389/" -d "${LDAP_DEBUG_LEVEL:-0}"
