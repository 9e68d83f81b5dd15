"""Argon2id hashing of codes: bound to realm and user, optional pepper, one verification per call."""

from __future__ import annotations

from bridge.domain.hashing import CodeHasher
from bridge.settings import Settings
from tests.fixtures.argon2 import FAST_ARGON2, CountingHasher

CHEAP = FAST_ARGON2
CODE = "0123456789ABCDEF"


def test_stored_form_is_an_argon2id_phc_string_with_the_configured_cost() -> None:
    stored = CodeHasher(Settings(**CHEAP)).hash("r", "u", CODE)
    assert stored.startswith("$argon2id$v=19$m=64,t=1,p=1$")
    assert CODE not in stored


def test_default_cost_is_the_owasp_minimum() -> None:
    stored = CodeHasher(Settings()).hash("r", "u", CODE)
    assert "$m=19456,t=2,p=1$" in stored


def test_each_hash_has_its_own_salt() -> None:
    hasher = CodeHasher(Settings(**CHEAP))
    assert hasher.hash("r", "u", CODE) != hasher.hash("r", "u", CODE)


def test_right_code_verifies() -> None:
    hasher = CodeHasher(Settings(**CHEAP))
    assert hasher.verify(hasher.hash("r", "u", CODE), "r", "u", CODE)


def test_hash_is_bound_to_its_user_and_realm() -> None:
    hasher = CodeHasher(Settings(**CHEAP))
    stored = hasher.hash("r", "u", CODE)
    assert not hasher.verify(stored, "r", "other", CODE)
    assert not hasher.verify(stored, "other", "u", CODE)


def test_pepper_is_required_to_verify_a_peppered_hash() -> None:
    peppered = CodeHasher(Settings(**CHEAP, pepper="kept-outside-the-database"))
    plain = CodeHasher(Settings(**CHEAP))
    stored = peppered.hash("r", "u", CODE)
    assert peppered.verify(stored, "r", "u", CODE)
    assert not plain.verify(stored, "r", "u", CODE)


def test_peppered_material_is_an_hmac_not_the_code() -> None:
    hasher = CodeHasher(Settings(**CHEAP, pepper="p"))
    material = hasher.material("r", "u", CODE)
    assert len(material) == 32
    assert CODE.encode() not in material


def test_missing_candidate_costs_one_verification_against_the_dummy_and_fails() -> None:
    hasher = CodeHasher(Settings(**CHEAP))
    spy = CountingHasher(hasher._ph)
    hasher._ph = spy  # type: ignore[assignment]
    assert hasher.verify(None, "r", "u", CODE) is False
    assert spy.verifications == 1


def test_wrong_code_costs_exactly_one_verification() -> None:
    hasher = CodeHasher(Settings(**CHEAP))
    stored = hasher.hash("r", "u", CODE)
    spy = CountingHasher(hasher._ph)
    hasher._ph = spy  # type: ignore[assignment]
    assert hasher.verify(stored, "r", "u", "0123456789ABCDEG") is False
    assert spy.verifications == 1


def test_corrupt_stored_hash_fails_instead_of_raising() -> None:
    hasher = CodeHasher(Settings(**CHEAP))
    assert hasher.verify("not-a-hash", "r", "u", CODE) is False
