"""The notifier sends queued mail to a real SMTP server, retries with backoff, and never double-sends."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, Row, insert, select, update

from bridge import notify
from bridge.notify import Notifier, backoff
from bridge.settings import Settings
from bridge.store import db
from bridge.store.schema import contacts, notifications
from tests.fixtures.postgres import refuse_connections
from tests.fixtures.smtp import SmtpServer

T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)  # later than any row's next_attempt_at


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    engine = make_engine(url)
    db.create_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def make_engine(url: str) -> Engine:
    return db.make_engine(Settings(database_url=url))


def settings_for(server: SmtpServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "smtp_host": server.host,
        "smtp_port": server.port,
        "mail_from": "Acme Security <security@acme.example>",
        "organisation_name": "Acme Corp",
        "notify_max_attempts": 3,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def queue_mail(
    engine: Engine,
    user_id: str = "u1",
    *,
    email: str = "jane@example.com",
    locale: str = "en",
    kind: str = "code_used",
) -> int:
    with engine.begin() as conn:
        conn.execute(
            insert(contacts).values(
                realm="acme",
                user_id=user_id,
                email=email,
                locale=locale,
                source="api",
                updated_at=datetime.now(UTC),
            )
        )
        row_id = notify.enqueue(
            conn,
            realm="acme",
            user_id=user_id,
            kind=kind,
            context={"realm_display_name": "Acme SSO", "remaining": 7, "client_ip": "203.0.113.7"},
        )
    assert row_id is not None
    return row_id


def row(engine: Engine, row_id: int) -> Row:
    with engine.connect() as conn:
        return conn.execute(select(notifications).where(notifications.c.id == row_id)).one()


def race_two_notifiers(url: str, server: SmtpServer) -> int:
    """Two notifiers with their own engines (like two bridge processes) start together; total delivered."""
    engines = [make_engine(url), make_engine(url)]
    notifiers = [Notifier(engine, settings_for(server)) for engine in engines]
    start = threading.Barrier(len(notifiers))
    counts: list[int] = []

    def work(notifier: Notifier) -> None:
        start.wait()
        counts.append(notifier.run_once())

    threads = [threading.Thread(target=work, args=(notifier,)) for notifier in notifiers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for engine in engines:
        engine.dispose()
    return sum(counts)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_a_queued_mail_is_delivered_as_multipart_alternative(engine: Engine, smtp_server: SmtpServer) -> None:
    row_id = queue_mail(engine)

    delivered = Notifier(engine, settings_for(smtp_server)).run_once()

    assert delivered == 1
    [message] = smtp_server.wait_for(1)
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == "jane@example.com"
    assert message["From"] == "Acme Security <security@acme.example>"
    assert message["Subject"] == "A backup code was used to sign in to Acme SSO"
    assert message["Date"] and message["Message-ID"].endswith("@acme.example>")
    assert message["Auto-Submitted"] == "auto-generated"
    assert "7 unused backup codes left" in message.get_body(("plain",)).get_content()
    assert smtp_server.envelopes == [("security@acme.example", ["jane@example.com"])]
    sent = row(engine, row_id)
    assert sent.status == "sent" and sent.sent_at is not None and sent.attempts == 1


def test_a_sent_mail_is_not_sent_again(engine: Engine, smtp_server: SmtpServer) -> None:
    queue_mail(engine)
    notifier = Notifier(engine, settings_for(smtp_server))

    assert notifier.run_once() == 1
    assert notifier.run_once() == 0
    assert len(smtp_server.wait_for(1)) == 1


def test_mail_is_written_in_the_recipients_language(engine: Engine, smtp_server: SmtpServer) -> None:
    queue_mail(engine, locale="es-ES")

    Notifier(engine, settings_for(smtp_server)).run_once()

    [message] = smtp_server.wait_for(1)
    assert message["Subject"].startswith("Se ha usado un código de respaldo")
    assert message["Content-Language"] == "es"


def test_without_smtp_host_mail_stays_queued_and_this_is_logged_once(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    row_id = queue_mail(engine)
    notifier = Notifier(engine, Settings(smtp_host=""))

    with caplog.at_level(logging.WARNING, logger="bridge.notify"):
        assert notifier.run_once() == 0
        assert notifier.run_once() == 0

    assert row(engine, row_id).status == "pending" and row(engine, row_id).attempts == 0
    assert len([r for r in caplog.records if "SMTP_HOST" in r.getMessage()]) == 1


def test_an_smtp_outage_backs_off_then_the_mail_goes_out_when_the_server_returns(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    row_id = queue_mail(engine)
    notifier = Notifier(engine, settings_for(smtp_server, smtp_password="hunter2-secret"))
    smtp_server.stop()

    assert notifier.run_once(now=T0) == 0
    failed = row(engine, row_id)
    assert (failed.status, failed.attempts) == ("pending", 1)
    assert aware(failed.next_attempt_at) == T0 + backoff(1)
    assert failed.last_error and "hunter2" not in failed.last_error

    smtp_server.start()
    assert notifier.run_once(now=T0 + backoff(1) - timedelta(seconds=1)) == 0  # not due yet
    assert notifier.run_once(now=T0 + backoff(1)) == 1
    assert len(smtp_server.wait_for(1)) == 1
    assert row(engine, row_id).status == "sent" and row(engine, row_id).attempts == 2


def test_backoff_doubles_from_thirty_seconds_up_to_an_hour() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(50) == timedelta(hours=1)


def test_a_mail_fails_for_good_after_the_maximum_attempts(engine: Engine, smtp_server: SmtpServer) -> None:
    row_id = queue_mail(engine)
    notifier = Notifier(engine, settings_for(smtp_server, notify_max_attempts=3))
    smtp_server.stop()

    for hour in range(5):
        notifier.run_once(now=T0 + timedelta(hours=hour))

    gave_up = row(engine, row_id)
    assert (gave_up.status, gave_up.attempts) == ("failed", 3)
    assert gave_up.last_error


def test_a_recipient_refused_for_good_is_not_retried(engine: Engine, smtp_server: SmtpServer) -> None:
    row_id = queue_mail(engine, email="gone@example.com")
    smtp_server.refused.add("gone@example.com")

    assert Notifier(engine, settings_for(smtp_server)).run_once() == 0

    refused = row(engine, row_id)
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert "550" in refused.last_error


def test_one_refused_recipient_does_not_hold_up_the_others(engine: Engine, smtp_server: SmtpServer) -> None:
    queue_mail(engine, "u1", email="gone@example.com")
    queue_mail(engine, "u2", email="here@example.com")
    smtp_server.refused.add("gone@example.com")

    assert Notifier(engine, settings_for(smtp_server)).run_once() == 1
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["here@example.com"]


def test_two_notifiers_never_send_the_same_mail_twice(db_url: str, smtp_server: SmtpServer) -> None:
    engine = make_engine(db_url)
    ids = {queue_mail(engine, f"u{n}", email=f"user{n}@example.com") for n in range(30)}

    assert race_two_notifiers(db_url, smtp_server) == 30

    messages = smtp_server.wait_for(30)
    assert len(messages) == 30
    assert len({m["Message-ID"] for m in messages}) == 30
    assert {row(engine, i).status for i in ids} == {"sent"}
    engine.dispose()


def test_a_claim_left_by_a_crashed_worker_is_taken_over_when_its_lease_ends(
    engine: Engine, smtp_server: SmtpServer
) -> None:
    row_id = queue_mail(engine)
    with engine.begin() as conn:
        conn.execute(
            update(notifications)
            .where(notifications.c.id == row_id)
            .values(status="sending", attempts=1, claimed_until=T0)
        )
    notifier = Notifier(engine, settings_for(smtp_server))

    assert notifier.run_once(now=T0 - timedelta(seconds=1)) == 0  # the other worker may still be sending
    assert notifier.run_once(now=T0 + timedelta(seconds=1)) == 1
    assert row(engine, row_id).status == "sent"


def test_run_once_never_raises_even_when_the_database_is_unusable(
    tmp_path: Path, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    no_tables = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")

    with caplog.at_level(logging.ERROR, logger="bridge.notify"):
        assert Notifier(no_tables, settings_for(smtp_server)).run_once() == 0

    assert any("notification run failed" in r.getMessage() for r in caplog.records)


def test_run_forever_sends_in_the_background_until_stopped(engine: Engine, smtp_server: SmtpServer) -> None:
    notifier = Notifier(engine, settings_for(smtp_server, notify_poll_seconds=0.05))
    stop = threading.Event()
    worker = threading.Thread(target=notifier.run_forever, args=(stop,))
    worker.start()
    try:
        queue_mail(engine)
        assert len(smtp_server.wait_for(1)) == 1
    finally:
        stop.set()
        worker.join(timeout=60)
    assert not worker.is_alive()


# ------------------------------------------------------------------------------ on PostgreSQL


@pytest.mark.postgres
def test_on_postgresql_a_queued_mail_is_delivered(pg_engine: Engine, smtp_server: SmtpServer) -> None:
    row_id = queue_mail(pg_engine)

    assert Notifier(pg_engine, settings_for(smtp_server)).run_once() == 1

    assert len(smtp_server.wait_for(1)) == 1
    assert row(pg_engine, row_id).status == "sent"


@pytest.mark.postgres
def test_on_postgresql_two_notifiers_never_send_the_same_mail_twice(
    pg_engine: Engine, smtp_server: SmtpServer
) -> None:
    ids = {queue_mail(pg_engine, f"u{n}", email=f"user{n}@example.com") for n in range(30)}

    assert race_two_notifiers(pg_engine.url.render_as_string(hide_password=False), smtp_server) == 30

    messages = smtp_server.wait_for(30)
    assert len(messages) == 30
    assert len({m["Message-ID"] for m in messages}) == 30
    assert {row(pg_engine, i).status for i in ids} == {"sent"}


@pytest.mark.postgres
def test_on_postgresql_an_outage_is_one_log_line_and_the_mail_goes_out_after_it(
    pg_engine: Engine, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    row_id = queue_mail(pg_engine)
    notifier = Notifier(pg_engine, settings_for(smtp_server))
    url = pg_engine.url.render_as_string(hide_password=False)
    try:
        refuse_connections(url, refuse=True)
        with caplog.at_level(logging.ERROR, logger="bridge.notify"):
            assert notifier.run_once() == 0
    finally:
        refuse_connections(url, refuse=False)
    [logged] = [r for r in caplog.records if r.name == "bridge.notify"]
    assert "database unavailable" in logged.getMessage() and not logged.exc_info

    assert notifier.run_once() == 1
    assert row(pg_engine, row_id).status == "sent"
