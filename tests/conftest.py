"""Shared fixtures: each real part (PostgreSQL, SMTP, slapd, Keycloak, a served bridge) has its own plugin."""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.smtp",
    "tests.fixtures.slapd",
    "tests.fixtures.keycloak",
    "tests.fixtures.bridge_server",
]
