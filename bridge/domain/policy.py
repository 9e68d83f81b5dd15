"""Per-realm policy: how many codes, how long, how many failures before a lockout.

Pure rules, no I/O (:mod:`bridge.store.policies` loads and saves). Defaults come from
``Settings``; a realm stores only its overrides' result as one JSON document in
``policies``. Validation enforces the floors that make the codes safe regardless of what an admin
asks for: at least 64 secret bits per code and at most 100 consecutive failures (NIST SP 800-63B-4).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from bridge import contract
from bridge.domain import codes
from bridge.errors import InvalidPolicy
from bridge.settings import Settings

MAX_FAILURES_CAP = 100
MAX_CODE_COUNT = 50
RESET_MODES = contract.POLICY_RESET_MODES  # ("helpdesk", "self_service"), shared with the admin tab


PolicyError = InvalidPolicy  # the name the CLI and older callers catch


@dataclass(frozen=True)
class Policy:
    code_count: int = 10
    code_length: int = 16
    max_failures: int = 5
    lockout_seconds: int = 60
    lockout_max_seconds: int = 3600
    low_threshold: int = 3
    # helpdesk: a user who lost their codes is re-enrolled by the helpdesk (identity check, audit);
    # self_service: a signed-in user may regenerate their own set.
    reset_mode: str = "helpdesk"

    @classmethod
    def defaults(cls, settings: Settings) -> Policy:
        return cls(
            code_count=settings.code_count,
            code_length=settings.code_length,
            max_failures=settings.max_failures,
            lockout_seconds=settings.lockout_seconds,
            lockout_max_seconds=settings.lockout_max_seconds,
            low_threshold=settings.low_codes_threshold,
        ).validated()

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: Policy | None = None) -> Policy:
        """Overlay ``data`` on ``base`` (or the built-in defaults); unknown keys or wrong types are errors."""
        if not isinstance(data, dict):
            raise PolicyError("policy must be a JSON object")
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise PolicyError(f"unknown policy field(s): {', '.join(unknown)}")
        for name, value in data.items():
            expected = str if known[name] == "str" else int
            if isinstance(value, bool) or not isinstance(value, expected):
                raise PolicyError(f"{name} must be {'a string' if expected is str else 'an integer'}")
        return replace(base or cls(), **data).validated()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validated(self) -> Policy:
        if not 1 <= self.code_count <= MAX_CODE_COUNT:
            raise PolicyError(f"code_count must be between 1 and {MAX_CODE_COUNT}")
        if codes.secret_bits(self.code_length) < codes.MIN_SECRET_BITS:
            raise PolicyError(
                f"code_length must give at least {codes.MIN_SECRET_BITS} secret bits "
                f"((length - {codes.SELECTOR_LENGTH}) * 5), so at least {codes.MIN_LENGTH}"
            )
        if self.code_length > codes.MAX_LENGTH:
            raise PolicyError(f"code_length must be at most {codes.MAX_LENGTH}")
        if not 1 <= self.max_failures <= MAX_FAILURES_CAP:
            raise PolicyError(f"max_failures must be between 1 and {MAX_FAILURES_CAP}")
        if self.lockout_seconds < 1:
            raise PolicyError("lockout_seconds must be at least 1")
        if self.lockout_max_seconds < self.lockout_seconds:
            raise PolicyError("lockout_max_seconds must be at least lockout_seconds")
        if not 0 <= self.low_threshold < self.code_count:
            raise PolicyError("low_threshold must be between 0 and code_count - 1")
        if self.reset_mode not in RESET_MODES:
            raise PolicyError(f"reset_mode must be one of {', '.join(RESET_MODES)}")
        return self


def from_stored(stored: object, settings: Settings) -> Policy:
    """The policy of a stored document (None: the realm has none)."""
    base = Policy.defaults(settings)
    if not stored:
        return base
    try:
        return Policy.from_dict(dict(stored), base)
    except PolicyError:
        # A stored policy that no longer validates (e.g. a newer floor) must not weaken anything:
        # fall back to the defaults rather than fail every login of the realm.
        return base
