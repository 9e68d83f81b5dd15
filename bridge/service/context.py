"""What every use case shares: the engine, the settings, the hasher, the clock and the event writer.

One mutable object per :class:`bridge.service.BackupCodes`, so replacing the facade's ``hasher`` (the
app wraps it in the hash gate) reaches every use case.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from bridge.service.events import Events
from bridge.settings import Settings

Clock = Callable[[], datetime]


@dataclass
class Context:
    engine: Engine
    settings: Settings
    hasher: Any  # bridge.domain.hashing.CodeHasher, or the app's gated wrapper of it
    events: Events
    clock: Clock
