"""The bridge's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Kept in one module so the Alembic migrations, the store and the tests agree on one shape.
Nothing here holds a secret in plaintext: codes are Argon2id PHC strings, API keys are
SHA-256 digests of 256-bit random keys (fast hashing is enough at ≥112 bits, NIST SP 800-63B-4).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

REALM = 255  # Keycloak realm names
USER = 255  # Keycloak user ids (UUIDs today, but federation may hand us longer ones)

# One row per code. Regeneration deletes a user's rows and inserts the new set in one transaction.
codes = Table(
    "codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("realm", String(REALM), nullable=False),
    Column("user_id", String(USER), nullable=False),
    Column("set_id", String(36), nullable=False),
    Column("selector", String(8), nullable=False),  # non-secret prefix of the code
    Column("hash", String(255), nullable=False),  # Argon2id PHC string
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("used_ip", String(64), nullable=True),
    UniqueConstraint("realm", "user_id", "selector", name="uq_codes_user_selector"),
)

# Per-user state that is not a code: failure counter, enrolment flag.
users = Table(
    "users",
    metadata,
    Column("realm", String(REALM), primary_key=True),
    Column("user_id", String(USER), primary_key=True),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("lockouts", Integer, nullable=False, default=0),  # consecutive lockouts: backoff grows with it
    # Verifications admitted but not yet settled (their hash still running), see bridge/service/lockout.py:
    # the count is void once ``in_flight_until`` has passed, and ``in_flight_batch`` tells a late
    # settlement that the count it belonged to was voided meanwhile.
    Column("in_flight", Integer, nullable=False, default=0),
    Column("in_flight_until", DateTime(timezone=True), nullable=True),
    Column("in_flight_batch", Integer, nullable=False, default=0),
    Column("enroll_required", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Lock state, one row per (user, source): the bridge's own lockout, Keycloak's, the directory's.
# kind: "temporary" (expires_at set) or "permanent" (admin lock, disabled account: never auto-cleared).
locks = Table(
    "locks",
    metadata,
    Column("realm", String(REALM), primary_key=True),
    Column("user_id", String(USER), primary_key=True),
    Column("source", String(16), primary_key=True),  # codes | keycloak | directory
    Column("kind", String(16), nullable=False),  # temporary | permanent
    Column("reason", Text, nullable=False, default=""),
    Column("actor", String(255), nullable=False, default=""),
    Column("locked_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
)

contacts = Table(
    "contacts",
    metadata,
    Column("realm", String(REALM), primary_key=True),
    Column("user_id", String(USER), primary_key=True),
    Column("email", String(320), nullable=True),
    Column("phone", String(64), nullable=True),
    Column("locale", String(16), nullable=True),
    Column("display_name", String(255), nullable=True),
    Column("source", String(16), nullable=False, default="api"),  # api | directory | keycloak
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

policies = Table(
    "policies",
    metadata,
    Column("realm", String(REALM), primary_key=True),
    Column("settings", JSON, nullable=False),  # validated by policy.Policy
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Append-only: the store offers insert and select, nothing that updates or deletes a row.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("realm", String(REALM), nullable=False),
    Column("user_id", String(USER), nullable=True),
    Column("event", String(32), nullable=False),
    Column("actor", String(255), nullable=False, default=""),
    Column("client_ip", String(64), nullable=True),
    Column("user_agent", String(512), nullable=True),
    Column("details", JSON, nullable=False, default=dict),
    Index("ix_audit_realm_user_at", "realm", "user_id", "at"),
    Index("ix_audit_at", "at"),
)

# Outbox for mail: written in the same transaction as the event, sent by notify.py's worker.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("realm", String(REALM), nullable=False),
    Column("user_id", String(USER), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("locale", String(16), nullable=False, default="en"),
    Column("context", JSON, nullable=False, default=dict),  # template variables, never a code
    Column("status", String(16), nullable=False, default="pending"),  # pending | sending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Index("ix_notifications_due", "status", "next_attempt_at"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),  # public key id, also the key's prefix
    Column("name", String(255), nullable=False),
    Column("digest", String(64), nullable=False),  # hex SHA-256 of the whole key
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # The realms the key may act on, a sorted JSON list; NULL: every realm (admin tools, and every key
    # made before scopes existed). Kept on the row so authenticating stays one primary-key read.
    Column("realms", JSON(none_as_null=True), nullable=True),
)

# Fixed-window counters shared by every bridge process (per client IP, per purpose).
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("window_start", Integer, primary_key=True),  # epoch seconds, aligned to the window
    Column("count", Integer, nullable=False),
    # The purge of finished windows runs whenever a new key appears; without this it scans every row.
    Index("ix_rate_limits_window_start", "window_start"),
)

# Recognised devices (issue: unrecognised device); the cookie carries device_id, signed.
devices = Table(
    "devices",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("realm", String(REALM), nullable=False),
    Column("user_id", String(USER), nullable=False),
    Column("name", String(255), nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("last_ip", String(64), nullable=True),
    Index("ix_devices_user", "realm", "user_id"),
)

# Small key/value state for background jobs (LDAP watermark, leader lease).
job_state = Table(
    "job_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("owner", String(128), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Directory entry ↔ Keycloak user mapping kept by the LDAP sync (entryUUID/objectGUID → user id).
directory_entries = Table(
    "directory_entries",
    metadata,
    Column("ldap_id", String(64), primary_key=True),
    Column("realm", String(REALM), nullable=False),
    Column("user_id", String(USER), nullable=False),
    Column("dn", Text, nullable=False),
    Column("fingerprint", String(64), nullable=False),  # hash of the synced attributes, to skip no-ops
    Column("seen_at", DateTime(timezone=True), nullable=False),
    # Last applied synced attributes (email, mobile, lock): what changed is diffed against this.
    Column("state", JSON, nullable=True),
    # The directory lock last applied, queryable so a bridge-side clear of a running temporary lock
    # (code-based recovery) can be found and written back to the directory.
    Column("lock_kind", String(16), nullable=True),
    Column("lock_expires_at", DateTime(timezone=True), nullable=True),
    Index("ix_directory_user", "realm", "user_id"),
)
