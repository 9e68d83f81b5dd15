"""The outbox: enqueue writes one row in the caller's transaction, or nothing at all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from bridge import notify
from bridge.settings import Settings
from bridge.store import db
from bridge.store.schema import contacts, notifications


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = db.make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'outbox.db'}"))
    db.create_all(engine)
    yield engine
    engine.dispose()


def add_contact(
    engine: Engine,
    user_id: str,
    email: str | None,
    locale: str | None = None,
    display_name: str | None = None,
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(contacts).values(
                realm="acme",
                user_id=user_id,
                email=email,
                locale=locale,
                display_name=display_name,
                source="api",
                updated_at=datetime.now(UTC),
            )
        )


def queued(engine: Engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(notifications).order_by(notifications.c.id)))


def test_enqueue_without_a_contact_queues_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        result = notify.enqueue(conn, realm="acme", user_id="u1", kind="code_used", context={})

    assert result is None
    assert queued(engine) == []


def test_enqueue_with_a_contact_without_email_queues_nothing(engine: Engine) -> None:
    add_contact(engine, "u1", None)

    with engine.begin() as conn:
        assert notify.enqueue(conn, realm="acme", user_id="u1", kind="code_used", context={}) is None


def test_enqueue_uses_the_contact_address_and_locale(engine: Engine) -> None:
    add_contact(engine, "u1", "jane@example.com", "es")

    with engine.begin() as conn:
        row_id = notify.enqueue(conn, realm="acme", user_id="u1", kind="code_used", context={"remaining": 4})

    [row] = queued(engine)
    assert row.id == row_id
    assert (row.to_address, row.locale, row.status, row.attempts) == ("jane@example.com", "es", "pending", 0)
    assert row.context["remaining"] == 4 and row.context["realm"] == "acme"


def test_explicit_address_and_locale_win_over_the_contact(engine: Engine) -> None:
    add_contact(engine, "u1", "old@example.com", "es")

    with engine.begin() as conn:
        notify.enqueue(
            conn,
            realm="acme",
            user_id="u1",
            kind="email_changed",
            context={},
            to_address="new@example.com",
            locale="en",
        )

    [row] = queued(engine)
    assert (row.to_address, row.locale) == ("new@example.com", "en")


def test_the_contacts_display_name_is_used_for_the_greeting(engine: Engine) -> None:
    add_contact(engine, "u1", "jane@example.com", display_name="Jane Doe")

    with engine.begin() as conn:
        notify.enqueue(conn, realm="acme", user_id="u1", kind="unlocked", context={})

    [row] = queued(engine)
    assert row.context["display_name"] == "Jane Doe"


def test_explicit_address_needs_no_contact(engine: Engine) -> None:
    with engine.begin() as conn:
        assert (
            notify.enqueue(
                conn, realm="acme", user_id="u1", kind="unlocked", context={}, to_address="a@example.com"
            )
            is not None
        )

    [row] = queued(engine)
    assert row.locale == ""  # resolved to Settings.default_locale when sending


def test_a_rolled_back_event_leaves_no_mail(engine: Engine) -> None:
    add_contact(engine, "u1", "jane@example.com")

    with pytest.raises(RuntimeError), engine.begin() as conn:
        notify.enqueue(conn, realm="acme", user_id="u1", kind="codes_issued", context={})
        raise RuntimeError("the event's transaction fails after queuing")

    assert queued(engine) == []


def test_unusable_address_queues_nothing(engine: Engine) -> None:
    with engine.begin() as conn:
        result = notify.enqueue(
            conn,
            realm="acme",
            user_id="u1",
            kind="unlocked",
            context={},
            to_address="jane@example.com\r\nBcc: all@example.com",
        )

    assert result is None
    assert queued(engine) == []


def test_unknown_kind_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown notification kind"), engine.begin() as conn:
        notify.enqueue(conn, realm="acme", user_id="u1", kind="hello", context={}, to_address="a@example.com")


@pytest.mark.parametrize("key", ["code", "codes", "new_codes", "secret", "api_key", "password"])
def test_context_that_names_a_code_or_secret_is_refused(engine: Engine, key: str) -> None:
    with pytest.raises(ValueError, match="never carry a code or secret"), engine.begin() as conn:
        notify.enqueue(
            conn,
            realm="acme",
            user_id="u1",
            kind="codes_issued",
            context={key: "ABCD-EFGH-JKMN-PQRS"},
            to_address="a@example.com",
        )


def test_unknown_context_key_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown notification context key"), engine.begin() as conn:
        notify.enqueue(
            conn,
            realm="acme",
            user_id="u1",
            kind="code_used",
            context={"remainder": 3},
            to_address="a@example.com",
        )


def test_account_url_must_be_a_web_address(engine: Engine) -> None:
    with pytest.raises(ValueError, match="account_url"), engine.begin() as conn:
        notify.enqueue(
            conn,
            realm="acme",
            user_id="u1",
            kind="codes_low",
            context={"account_url": "javascript:alert(1)"},
            to_address="a@example.com",
        )


def test_datetimes_in_the_context_are_stored_as_utc_iso_strings(engine: Engine) -> None:
    with engine.begin() as conn:
        notify.enqueue(
            conn,
            realm="acme",
            user_id="u1",
            kind="locked",
            to_address="a@example.com",
            context={"until": datetime(2026, 11, 25, 21, 4, tzinfo=UTC)},
        )

    [row] = queued(engine)
    assert row.context["until"] == "2026-11-25T21:04:00+00:00"
    assert row.context["when"]  # defaults to the time of the event


def test_overlong_values_are_cut(engine: Engine) -> None:
    with engine.begin() as conn:
        notify.enqueue(
            conn,
            realm="acme",
            user_id="u1",
            kind="new_device",
            to_address="a@example.com",
            context={"user_agent": "x" * 5000},
        )

    [row] = queued(engine)
    assert len(row.context["user_agent"]) == notify.MAX_VALUE_CHARS
