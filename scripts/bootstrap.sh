#!/usr/bin/env bash
# Idempotent set-up of a Debian 12 machine for keycloak-backup-codes: system packages, the Python
# virtualenv, the Keycloak provider JAR and the Keycloak distribution (cached in ~/.m2).
#
# Safe to run again and again: every step checks first and does nothing when its result is current,
# so scripts/test.sh and scripts/stack.sh call it on every run. Runs as root (CI) or as a user with sudo.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"

APT_PACKAGES=(chromium slapd ldap-utils postgresql poppler-utils fonts-dejavu-core fonts-noto-cjk fonts-tlwg-loma-ttf
              python3-venv openjdk-17-jdk-headless maven sqlite3)
VENV="$REPO_ROOT/.venv"
VENV_STAMP="$VENV/.bootstrap-pyproject.sha256"
PLUGIN_POM="$REPO_ROOT/plugin/pom.xml"
PLUGIN_JAR="$REPO_ROOT/plugin/target/keycloak-backup-codes.jar"

step() { printf '==> %s\n' "$*"; }
fail() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        fail "need root for: $* (run as root, or install sudo)"
    fi
}

missing_apt_packages() {
    local pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
            printf '%s\n' "$pkg"
        fi
    done
}

install_system_packages() {
    command -v dpkg-query >/dev/null 2>&1 || fail "this script expects Debian 12 (dpkg-query not found)"
    local missing
    mapfile -t missing < <(missing_apt_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        step "system packages: all present"
        return
    fi
    step "system packages: installing ${missing[*]}"
    # Keep the packages' own system daemons (slapd, postgresql) from starting: the tests and the
    # stack run their own instances on loopback. A policy-rc.d that exits 101 tells invoke-rc.d
    # "not allowed"; an existing one (as in containers) is left alone.
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
        made_policy=1
        # shellcheck disable=SC2064
        trap "as_root rm -f $policy" EXIT
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
        || fail "apt-get update failed (network to the Debian mirror?)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
        || fail "apt-get install ${missing[*]} failed"
    if [ "$made_policy" -eq 1 ]; then
        as_root rm -f "$policy"
        trap - EXIT
    fi
}

pyproject_hash() {
    sha256sum "$REPO_ROOT/pyproject.toml" | cut -d' ' -f1
}

setup_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        step "python: creating $VENV"
        python3 -m venv "$VENV" || fail "python3 -m venv failed (apt-get install python3-venv)"
    fi
    local want have=""
    want="$(pyproject_hash)"
    [ -f "$VENV_STAMP" ] && have="$(cat "$VENV_STAMP")"
    if [ "$want" = "$have" ]; then
        step "python: .venv up to date"
        return
    fi
    step "python: pip install -e '.[test]' (pyproject.toml changed)"
    local log="$VENV/pip-install.log"
    if ! "$VENV/bin/python" -m pip install --disable-pip-version-check -e "$REPO_ROOT[test]" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        fail "pip install -e '.[test]' failed (network to PyPI?); full log: $log"
    fi
    printf '%s\n' "$want" > "$VENV_STAMP"
}

compile_catalogs() {
    # The mails' and the sheet's gettext catalogs: .po in git, .mo built here (and in the Dockerfile),
    # so a merged or edited translation is what the bridge speaks after the next bootstrap.
    step "i18n: compiling bridge/locale/*/LC_MESSAGES/messages.po"
    PYBABEL="$VENV/bin/pybabel" "$REPO_ROOT/scripts/i18n.sh" compile >/dev/null \
        || fail "pybabel compile failed: a catalog in bridge/locale is broken (scripts/i18n.sh compile)"
}

keycloak_version() {
    # One source of truth: the version the provider is compiled against (plugin/pom.xml).
    local v=""
    if [ -f "$PLUGIN_POM" ]; then
        v="$(sed -n 's:.*<keycloak.version>\(.*\)</keycloak.version>.*:\1:p' "$PLUGIN_POM" | head -n1)"
    fi
    printf '%s\n' "${KEYCLOAK_VERSION:-${v:-26.7.3}}"
}

require_java_tools() {
    command -v java >/dev/null 2>&1 || fail "java not found (apt-get install openjdk-17-jdk-headless)"
    command -v mvn >/dev/null 2>&1 || fail "mvn not found (apt-get install maven)"
}

plugin_jar_stale() {
    [ ! -f "$PLUGIN_JAR" ] && return 0
    [ -n "$(find "$PLUGIN_POM" "$REPO_ROOT/plugin/src" "$REPO_ROOT/keycloak-theme" -newer "$PLUGIN_JAR" -print -quit 2>/dev/null)" ]
}

build_plugin() {
    if [ ! -f "$PLUGIN_POM" ]; then
        step "plugin: plugin/pom.xml not found, skipping the provider build"
        return
    fi
    if ! plugin_jar_stale; then
        step "plugin: $PLUGIN_JAR up to date"
        return
    fi
    step "plugin: mvn package (first run downloads dependencies, a few minutes)"
    mvn -B -q -Dstyle.color=never -f "$PLUGIN_POM" clean package || fail "plugin build failed: mvn -q -f plugin/pom.xml package"
    [ -f "$PLUGIN_JAR" ] || fail "plugin build produced no $PLUGIN_JAR"
}

fetch_keycloak() {
    local version zip
    version="$(keycloak_version)"
    zip="$HOME/.m2/repository/org/keycloak/keycloak-quarkus-dist/$version/keycloak-quarkus-dist-$version.zip"
    if [ -f "$zip" ]; then
        step "keycloak: $version distribution cached in ~/.m2"
        return
    fi
    step "keycloak: fetching keycloak-quarkus-dist $version from Maven Central (~170 MB)"
    mvn -B -q -Dstyle.color=never dependency:get -Dtransitive=false \
        "-Dartifact=org.keycloak:keycloak-quarkus-dist:$version:zip" \
        || fail "could not fetch org.keycloak:keycloak-quarkus-dist:$version:zip with Maven"
    [ -f "$zip" ] || fail "Maven reported success but $zip is missing"
}

main() {
    install_system_packages
    setup_venv
    compile_catalogs
    require_java_tools
    build_plugin
    fetch_keycloak
    step "bootstrap: done"
}

main "$@"
