from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contest.domain.draw import draw_stations

numbers = st.lists(st.text(alphabet="ABC0123456789", min_size=1, max_size=6), min_size=1, max_size=60, unique=True)


@given(numbers, st.text(min_size=1, max_size=20))
def test_stations_are_a_permutation_of_1_to_n(entries: list[str], seed: str) -> None:
    stations = draw_stations(entries, seed)
    assert set(stations) == set(entries)
    assert sorted(stations.values()) == list(range(1, len(entries) + 1))


@given(numbers, st.text(min_size=1, max_size=20))
def test_same_seed_same_draw_whatever_the_input_order(entries: list[str], seed: str) -> None:
    assert draw_stations(entries, seed) == draw_stations(list(reversed(entries)), seed)


def test_the_draw_can_be_rederived_by_hand_from_the_seed() -> None:
    entries = ["HG001", "HG002", "HG003", "HG004"]
    by_hash = sorted(entries, key=lambda no: hashlib.sha256(f"seed-1:{no}".encode()).hexdigest())
    assert draw_stations(entries, "seed-1") == {no: i for i, no in enumerate(by_hash, start=1)}


def test_different_seeds_give_different_draws() -> None:
    entries = [f"E{i:03d}" for i in range(30)]
    assert draw_stations(entries, "a") != draw_stations(entries, "b")


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="种子"):
        draw_stations(["A"], "")
    with pytest.raises(ValueError, match="重复"):
        draw_stations(["A", "A"], "s")
