"""The Repository contract for what is not readings, run unchanged against every backend: settings,
marks, a chamber's profile and the saved profiles."""

from __future__ import annotations

import pytest

from beerpi.base.errors import ConfigError
from beerpi.control.profile import ProfileRun, Step
from beerpi.repository import Repository
from beerpi.repository.profiles import SavedProfile

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DAY = 86_400.0


@pytest.fixture
def store(each_backend: Repository) -> Repository:
    return each_backend


def test_settings_are_replaced_key_by_key_and_keep_their_types(store):
    store.save_settings({"target": 20.0, "mode": "auto", "hysteresis": 0.3})
    store.save_settings({"target": 19.5, "probes": ["wort", "chamber"], "count": 3, "alarm": False})
    assert store.load_settings() == {"target": 19.5, "mode": "auto", "hysteresis": 0.3,
                                     "probes": ["wort", "chamber"], "count": 3, "alarm": False}
    assert isinstance(store.load_settings()["count"], int)


def test_marks_only_rise_and_are_read_back_by_prefix(store):
    """How far a hub has stored each series: a late, lower mark (another hub replica's) never lowers it."""
    assert store.load_marks() == {}
    store.raise_marks({"ack/garage/readings/28-1": 1_700_000_000_250, "ack/garage/events": 5})
    store.raise_marks({"ack/garage/readings/28-1": 1_700_000_000_000, "ack/cellar/events": -3})
    store.raise_marks({"ack/garage/events": 7})
    assert store.load_marks("ack/garage/") == {"ack/garage/readings/28-1": 1_700_000_000_250, "ack/garage/events": 7}
    assert store.load_marks() == {"ack/garage/readings/28-1": 1_700_000_000_250, "ack/garage/events": 7,
                                  "ack/cellar/events": -3}
    assert store.load_marks("ack/nowhere/") == {}


def test_a_chamber_s_profile_round_trips_and_a_stop_clears_it(store):
    """Chambers keep their settings and profiles as nested values under their own keys."""
    steps = (Step("hold", 12.0, 7 * 86400.0), Step("ramp", 18.0, rate=3.0), Step("ramp", 2.0, 86400.0))
    run = ProfileRun.start(steps, now=T0, start_target=12.0, at_step=1)
    store.save_settings({"chamber.lager": {"mode": "auto", "target": 10.0, "hysteresis": 0.5},
                         "profile.lager": run.as_dict()})
    stored = store.load_settings()
    assert ProfileRun.from_dict(stored["profile.lager"]) == run
    assert stored["chamber.lager"] == {"mode": "auto", "target": 10.0, "hysteresis": 0.5}
    store.save_settings({"profile.lager": None})
    assert store.load_settings()["profile.lager"] is None


# -- saved profiles ---------------------------------------------------------------------

ALE = ({"kind": "hold", "target": 19.0, "duration": 5 * DAY}, {"kind": "ramp", "target": 21.0, "rate": 1.0})
LAGER = ({"kind": "hold", "target": 10.0, "duration": 10 * DAY},)


def test_saved_profiles_come_back_by_name_whatever_the_case_and_a_save_replaces(store):
    # Given two saved profiles
    store.save_profile(SavedProfile("Lager", LAGER, T0))
    store.save_profile(SavedProfile("ale", ALE, T0 + 1.2345))
    assert store.list_profiles() == [SavedProfile("ale", ALE, round(T0 + 1.2345, 3)),
                                     SavedProfile("Lager", LAGER, T0)]
    # When one is saved again under its name in another case
    store.save_profile(SavedProfile("Ale", LAGER, T0 + 5))
    # Then it is replaced, named as saved last, steps and their types kept
    assert store.list_profiles() == [SavedProfile("Ale", LAGER, T0 + 5), SavedProfile("Lager", LAGER, T0)]
    assert isinstance(store.list_profiles()[0].steps[0]["duration"], float)


def test_a_deleted_profile_is_gone_and_deleting_it_again_says_so(store):
    store.save_profile(SavedProfile("Cold crash", LAGER, T0))
    store.save_profile(SavedProfile("Ale", ALE, T0))
    assert store.delete_profile("cold CRASH") is True
    assert [p.name for p in store.list_profiles()] == ["Ale"]
    assert store.delete_profile("Cold crash") is False
    assert store.delete_profile("never saved") is False


@pytest.mark.parametrize("name", ["", " Ale", "Ale ", "x" * 41, "a/b\\c", "new\nline", "<b>", 7])
def test_a_profile_with_a_bad_name_is_refused_and_nothing_changes(store, name):
    store.save_profile(SavedProfile("Ale", ALE, T0))
    with pytest.raises(ConfigError, match="1 to 40 characters"):
        store.save_profile(SavedProfile(name, LAGER, T0))
    with pytest.raises(ConfigError):
        store.seed_profiles([SavedProfile("Fine", LAGER, T0), SavedProfile(name, LAGER, T0)])
    assert store.list_profiles() == [SavedProfile("Ale", ALE, T0)]


def test_names_may_hold_letters_of_any_language_digits_and_some_punctuation(store):
    names = ["Kölsch #2 (house)", "x" * 40, "Pils 1/2", "Saison, Dupont-style", "Brewer's & co. +1"]
    for name in names:
        store.save_profile(SavedProfile(name, LAGER, T0))
    assert sorted(p.name for p in store.list_profiles()) == sorted(names)


def test_starters_are_seeded_once_and_a_deleted_one_stays_deleted(store):
    # Given a profile the brewer saved before any seeding
    store.save_profile(SavedProfile("Ale", LAGER, T0))
    # When the starters are seeded
    assert store.seed_profiles([SavedProfile("ale", ALE, T0), SavedProfile("Lager", LAGER, T0)]) is True
    # Then the brewer's own is kept and the other starter added
    assert store.list_profiles() == [SavedProfile("Ale", LAGER, T0), SavedProfile("Lager", LAGER, T0)]
    # And once a starter is deleted, seeding again brings nothing back
    store.delete_profile("Lager")
    assert store.seed_profiles([SavedProfile("Lager", LAGER, T0)]) is False
    assert [p.name for p in store.list_profiles()] == ["Ale"]
