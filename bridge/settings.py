"""One typed settings object, read from the environment (and optional secret files).

Every knob the bridge has is here, so the README's configuration reference can be checked
against one place. Secrets (pepper, device cookie key, SMTP and LDAP passwords) may come from a ``*_FILE``
variable instead, so they need not sit in the process environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from bridge import contract

PREFIX = "BACKUP_CODES_"
MIN_DEVICE_KEY_BYTES = 32  # HMAC-SHA256 key: at least the output size
# Where Debian and most distributions install fonts; the PDF sheet looks for its Thai and CJK ones there.
DEFAULT_FONT_DIRS = "/usr/share/fonts:/usr/local/share/fonts"


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def _default_data_dir() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "backup-codes"


@dataclass(frozen=True)
class Settings:
    # Storage
    data_dir: Path = field(default_factory=_default_data_dir)
    database_url: str = ""  # empty: sqlite file under data_dir

    # Argon2id cost (OWASP minimum; security.md §3.2 measured ~18 ms per verify on 2 cores)
    argon2_time_cost: int = 2
    argon2_memory_cost: int = 19456
    argon2_parallelism: int = 1
    pepper: str = ""  # optional; from BACKUP_CODES_PEPPER or BACKUP_CODES_PEPPER_FILE, never the database

    # Default per-realm policy (a realm may override through the policy API)
    code_count: int = 10
    code_length: int = 16
    max_failures: int = 5
    lockout_seconds: int = 60  # first lockout; doubles with each further lockout
    lockout_max_seconds: int = 3600
    low_codes_threshold: int = 3

    # Per-client-IP rate limit applied before any hashing
    ip_rate_limit: int = 30
    ip_rate_window_seconds: int = 60
    ip_rate_ipv6_prefix: int = 64  # IPv6 clients are counted per network of this size (one host: a /64)

    # HTTP service
    host: str = "127.0.0.1"
    port: int = 8090
    workers: int = 0  # 0: one process per core
    log_level: str = "INFO"
    trusted_proxies: int = 0

    # Notifications (SMTP); empty smtp_host disables sending, mails stay queued
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    mail_from: str = "backup-codes@localhost"
    organisation_name: str = "your organisation"
    support_contact: str = ""  # named in mails ("contact …"); empty: a generic "your IT help desk"
    default_locale: str = "en"
    # Where the PDF sheet finds its Thai and CJK fonts (colon-separated, searched recursively)
    font_dirs: str = DEFAULT_FONT_DIRS
    notify_max_attempts: int = 8
    notify_poll_seconds: float = 2.0

    # Device recognition: HMAC key of the "remember this device" cookie (≥32 bytes; env or _FILE).
    # Empty disables it: the device endpoints answer 409 and Keycloak always asks for the second factor.
    device_cookie_key: str = ""
    device_ttl_days: int = 90  # how long a remembered device stays recognised (1 to contract's cap, 400)

    # LDAP sync (see ldap_sync.py); empty ldap_url disables it
    ldap_url: str = ""  # comma-separated for failover
    ldap_bind_dn: str = ""
    ldap_bind_password: str = ""
    ldap_base_dn: str = ""
    ldap_user_filter: str = "(objectClass=inetOrgPerson)"
    ldap_profile: str = "openldap"  # openldap | active-directory | 389ds | freeipa
    ldap_id_attribute: str = ""  # empty: the profile's (entryUUID, objectGUID, nsUniqueId, ipaUniqueID)
    ldap_username_attribute: str = ""  # empty: the profile's (uid, sAMAccountName)
    ldap_mail_attribute: str = "mail"
    ldap_mobile_attribute: str = "mobile"
    ldap_default_policy_dn: str = ""
    ldap_realm: str = ""
    ldap_start_tls: bool = False
    ldap_ca_file: str = ""
    ldap_page_size: int = 500
    ldap_poll_seconds: float = 30.0
    ldap_full_reconcile_seconds: float = 3600.0
    ldap_write_locks: bool = False  # bridge lockout for wrong codes also locks the directory account
    ldap_write_unlocks: bool = True  # a temporary directory lock cleared in the bridge is cleared there too
    ldap_poll_overlap_seconds: float = 5.0  # re-read window below the watermark (1 s timestamps, skew)
    ldap_timeout_seconds: float = 10.0  # connect and per-operation timeout
    ldap_resolver: str = "keycloak"  # keycloak (LDAP_ID lookup) | federation-id (f:<component>:<id>)
    ldap_federation_component_id: str = ""  # Keycloak's LDAP provider id, for ldap_resolver=federation-id

    # Keycloak admin access for the realm installer and the LDAP identity mapping
    keycloak_url: str = ""
    keycloak_admin_username: str = ""
    keycloak_admin_password: str = ""

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'backup-codes.db'}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``BACKUP_CODES_<FIELD>`` variables; ``<FIELD>_FILE`` reads a secret file."""
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        for f in fields(cls):
            name = PREFIX + f.name.upper()
            raw = env.get(name)
            file_name = env.get(name + "_FILE")
            if raw is None and file_name:
                try:
                    raw = Path(file_name).read_text(encoding="utf-8").strip()
                except OSError as exc:
                    raise SettingsError(f"{name}_FILE: cannot read {file_name}: {exc.strerror}") from None
            if raw is None:
                continue
            values[f.name] = _convert(name, raw, f.type)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        return settings

    def validate(self) -> None:
        if not 1 <= self.max_failures <= 100:
            raise SettingsError(
                "BACKUP_CODES_MAX_FAILURES must be between 1 and 100 (NIST SP 800-63B-4 §3.2.2)"
            )
        if self.argon2_memory_cost < 8 * self.argon2_parallelism or self.argon2_time_cost < 1:
            raise SettingsError("BACKUP_CODES_ARGON2_*: time cost ≥ 1, memory cost ≥ 8 KiB per lane")
        if self.code_count < 1 or self.code_count > 50:
            raise SettingsError("BACKUP_CODES_CODE_COUNT must be between 1 and 50")
        if self.device_cookie_key and len(self.device_cookie_key.encode("utf-8")) < MIN_DEVICE_KEY_BYTES:
            raise SettingsError(
                f"BACKUP_CODES_DEVICE_COOKIE_KEY must be at least {MIN_DEVICE_KEY_BYTES} bytes "
                "(e.g. `openssl rand -base64 48`), or empty to disable device recognition"
            )
        if not 1 <= self.device_ttl_days <= contract.REMEMBER_DEVICE_MAX_DAYS:
            raise SettingsError(
                f"BACKUP_CODES_DEVICE_TTL_DAYS must be between 1 and {contract.REMEMBER_DEVICE_MAX_DAYS}"
            )
        if not 1 <= self.ip_rate_ipv6_prefix <= 128:
            raise SettingsError("BACKUP_CODES_IP_RATE_IPV6_PREFIX must be a prefix length, 1 to 128")
        if self.trusted_proxies < 0:
            raise SettingsError("BACKUP_CODES_TRUSTED_PROXIES must be 0 or more")

    @property
    def device_recognition(self) -> bool:
        return bool(self.device_cookie_key)


def _convert(name: str, raw: str, annotation: object) -> object:
    kind = str(annotation)
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected {kind}, got {raw!r}") from None
    return raw
