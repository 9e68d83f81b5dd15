"""``decide()`` and its neighbours: the verification's rules on plain values, no database, no hashing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.domain.locks import COUNTED, UNKNOWN_USER, Lock
from bridge.domain.policy import Policy
from bridge.domain.results import Reason
from bridge.domain.verification import Purpose, Snapshot, decide, failure_reason, success

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
POLICY = Policy(max_failures=5, low_threshold=3)


def lock(source: str, kind: str, minutes: int | None = 10) -> Lock:
    expires = None if kind == "permanent" else NOW + timedelta(minutes=minutes or 0)
    active = kind == "permanent" or (expires is not None and expires > NOW)
    return Lock(source, kind, "", "", NOW - timedelta(minutes=1), expires, active)


def user(**fields: object) -> Snapshot:
    return Snapshot(policy=POLICY, known=True, **fields)  # type: ignore[arg-type]


def test_a_known_user_under_the_limit_goes_on_to_the_hash_counted() -> None:
    decision = decide(user(failed_attempts=4), Purpose.LOGIN, NOW)
    assert decision.refusal is None and decision.outcome == COUNTED


def test_a_user_the_bridge_never_saw_is_still_hashed_once() -> None:
    decision = decide(Snapshot(policy=POLICY, known=False), Purpose.LOGIN, NOW)
    assert decision.refusal is None and decision.outcome == UNKNOWN_USER


def test_an_active_temporary_lock_refuses_before_the_hash_and_says_until_when() -> None:
    decision = decide(user(locks=(lock("codes", "temporary"),)), Purpose.LOGIN, NOW)
    assert decision.refusal == Reason.LOCKED
    assert decision.locked_until == NOW + timedelta(minutes=10)


def test_a_permanent_lock_beats_a_temporary_one_and_has_no_end() -> None:
    decision = decide(
        user(locks=(lock("codes", "temporary"), lock("directory", "permanent"))), Purpose.LOGIN, NOW
    )
    assert decision.refusal == Reason.LOCKED and decision.locked_until is None


def test_among_temporary_locks_the_one_that_ends_last_wins() -> None:
    locks = (lock("codes", "temporary", 5), lock("keycloak", "temporary", 30))
    assert decide(user(locks=locks), Purpose.LOGIN, NOW).locked_until == NOW + timedelta(minutes=30)


def test_an_expired_temporary_lock_refuses_nothing() -> None:
    assert decide(user(locks=(lock("codes", "temporary", -1),)), Purpose.LOGIN, NOW).refusal is None


def test_a_recovery_is_not_refused_by_the_temporary_keycloak_lock_it_exists_to_lift() -> None:
    assert decide(user(locks=(lock("keycloak", "temporary"),)), Purpose.RECOVERY, NOW).outcome == COUNTED


def test_a_login_is_refused_by_a_temporary_directory_lock() -> None:
    assert decide(user(locks=(lock("directory", "temporary"),)), Purpose.LOGIN, NOW).refusal == Reason.LOCKED


def test_a_recovery_is_refused_by_a_permanent_lock() -> None:
    assert (
        decide(user(locks=(lock("directory", "permanent"),)), Purpose.RECOVERY, NOW).refusal == Reason.LOCKED
    )


def test_a_recovery_is_refused_by_the_bridges_own_lock() -> None:
    assert decide(user(locks=(lock("codes", "temporary"),)), Purpose.RECOVERY, NOW).refusal == Reason.LOCKED


def test_attempts_in_flight_that_fill_the_limit_answer_busy() -> None:
    decision = decide(user(failed_attempts=3, in_flight=2), Purpose.LOGIN, NOW)
    assert decision.refusal == Reason.BUSY


def test_busy_is_not_recorded_as_anyones_failure_but_locked_is() -> None:
    busy = decide(user(in_flight=5), Purpose.LOGIN, NOW)
    locked = decide(user(locks=(lock("codes", "temporary"),)), Purpose.LOGIN, NOW)
    assert not busy.audit and locked.audit


def test_failures_at_the_limit_whose_lock_ran_out_are_forgotten_and_the_attempt_counts() -> None:
    decision = decide(user(failed_attempts=5, locks=(lock("codes", "temporary", -1),)), Purpose.LOGIN, NOW)
    assert decision.forget_failures and decision.outcome == COUNTED


def test_forgotten_failures_still_leave_room_only_for_what_is_not_in_flight() -> None:
    decision = decide(user(failed_attempts=5, in_flight=5), Purpose.LOGIN, NOW)
    assert decision.forget_failures and decision.refusal == Reason.BUSY


def test_a_wrong_code_is_invalid() -> None:
    assert failure_reason(COUNTED, matched=False, unused=4) == Reason.INVALID


def test_the_right_code_used_before_is_used() -> None:
    assert failure_reason(COUNTED, matched=True, unused=4) == Reason.USED


def test_a_wrong_code_with_no_unused_code_left_is_no_codes() -> None:
    assert failure_reason(COUNTED, matched=False, unused=0) == Reason.NO_CODES


def test_an_unknown_user_fails_as_unknown_user_whatever_was_typed() -> None:
    assert failure_reason(UNKNOWN_USER, matched=False, unused=0) == Reason.UNKNOWN_USER


def test_the_last_code_leaves_none_and_is_low() -> None:
    last = success(0, POLICY)
    assert last.remaining == 0 and last.low and not last.announce_low


def test_reaching_the_threshold_announces_few_codes_left_once() -> None:
    assert success(3, POLICY).announce_low and not success(2, POLICY).announce_low


def test_above_the_threshold_is_not_low() -> None:
    assert not success(4, POLICY).low
