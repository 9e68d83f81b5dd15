"""A worker remembers the API keys it verified for a few seconds: digests only, successes only, bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, event

from bridge.settings import Settings
from bridge.store import api_keys, db


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = db.make_engine(Settings(data_dir=tmp_path / "data"))
    db.create_all(engine)
    return engine


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> api_keys.KeyCache:
    return api_keys.KeyCache(clock=clock)


def new_key(engine: Engine, name: str = "keycloak") -> api_keys.CreatedKey:
    with engine.begin() as conn:
        return api_keys.create_key(conn, name=name, actor="tests")


def revoke(engine: Engine, key_id: str) -> None:
    with engine.begin() as conn:
        assert api_keys.revoke_key(conn, key_id, actor="tests")


def statements(engine: Engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_verified_key_is_answered_again_without_reading_the_database(
    engine: Engine, cache: api_keys.KeyCache
) -> None:
    created = new_key(engine)
    assert api_keys.authenticate(engine, created.key, cache) is not None
    seen = statements(engine)
    key = api_keys.authenticate(engine, created.key, cache)
    assert key is not None and key.id == created.id
    assert seen == []


def test_a_revoked_key_is_refused_once_the_cache_bound_has_passed(
    engine: Engine, cache: api_keys.KeyCache, clock: FakeClock
) -> None:
    created = new_key(engine)
    assert api_keys.authenticate(engine, created.key, cache) is not None
    revoke(engine, created.id)
    clock.now += api_keys.CACHE_SECONDS
    assert api_keys.authenticate(engine, created.key, cache) is None


def test_the_revocation_bound_is_a_few_seconds() -> None:
    assert 0 < api_keys.CACHE_SECONDS <= 5


def test_the_cache_holds_the_digest_of_a_key_never_the_key(engine: Engine, cache: api_keys.KeyCache) -> None:
    created = new_key(engine)
    api_keys.authenticate(engine, created.key, cache)
    assert cache.digests() == {api_keys.digest(created.key)}
    assert not any(created.key.split("_")[2] in digest for digest in cache.digests())


def test_a_wrong_secret_is_refused_while_the_key_is_cached(engine: Engine, cache: api_keys.KeyCache) -> None:
    created = new_key(engine)
    api_keys.authenticate(engine, created.key, cache)
    assert api_keys.authenticate(engine, f"bcb_{created.id}_{'0' * 64}", cache) is None


def test_refusals_are_not_remembered(engine: Engine, cache: api_keys.KeyCache) -> None:
    created = new_key(engine)
    for presented in (f"bcb_{created.id}_{'0' * 64}", f"bcb_{'a' * 12}_{'0' * 64}", "nope", None):
        assert api_keys.authenticate(engine, presented, cache) is None
    assert len(cache) == 0


def test_the_cache_holds_at_most_its_size(engine: Engine, clock: FakeClock) -> None:
    cache = api_keys.KeyCache(size=2, clock=clock)
    for n in range(3):
        api_keys.authenticate(engine, new_key(engine, f"k{n}").key, cache)
    assert len(cache) <= 2
