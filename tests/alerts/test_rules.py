"""When alerts are sent: once per condition, once when it clears, never a flood."""

from __future__ import annotations

from beerpi.alerts.rules import STORAGE_GRACE, AlertRules
from beerpi.control.chamber import ChamberInfo
from beerpi.control.settings import ControlState
from beerpi.hardware.probe import Reading

ALE = ChamberInfo("ale", "Ale fridge", "wort", "air", ("heater", "cooler"))
HOUR = 3600.0


def rules(**options) -> AlertRules:
    return AlertRules([ALE], **({"margin": 1.0, "after": HOUR, "repeat_gap": 6 * HOUR} | options))


def state(ts: float, fault: str | None = None, target: float = 20.0, mode: str = "auto", cutoffs=(),
          profile=None) -> ControlState:
    return ControlState(ts, False, mode, target, 0.3, fault, chamber="ale", cooler=False, cutoffs=tuple(cutoffs),
                        profile=profile)


def beer(ts: float, temperature: float) -> Reading:
    return Reading(ts, "wort", "wort", temperature)


def levels(alerts) -> list[str]:
    return [alert.level for alert in alerts]


def test_a_fault_is_sent_once_and_its_clearing_once():
    watch = rules()
    assert levels(watch.state(state(0), 0)) == []
    sent = watch.state(state(10, "probe_crc"), 10)
    assert levels(sent) == ["problem"]
    assert sent[0].title == "Ale fridge: heater and cooler off: beer probe's data failed its check (probe_crc)"
    assert "Ale fridge is neither heated nor cooled until it clears." in sent[0].body
    assert watch.state(state(20, "probe_crc"), 20) == []  # still faulty: nothing new
    assert levels(watch.state(state(30), 30)) == ["cleared"]
    assert watch.state(state(40), 40) == []


def test_a_flapping_fault_is_not_sent_again_within_the_repeat_gap():
    watch = rules()
    watch.state(state(0), 0)
    assert levels(watch.state(state(10, "probe_crc"), 10)) == ["problem"]
    assert levels(watch.state(state(20), 20)) == ["cleared"]
    assert watch.state(state(30, "probe_crc"), 30) == []  # back within the gap: quiet
    assert watch.state(state(40), 40) == []  # and so is its clearing
    assert levels(watch.state(state(10 + 6 * HOUR, "probe_crc"), 10 + 6 * HOUR)) == ["problem"]


def test_the_beer_outside_its_band_for_too_long_is_sent_once():
    watch = rules()
    watch.state(state(0, target=20.0), 0)
    assert watch.reading(beer(0, 22.0)) == []  # 2 °C off: outside 20 ± 0.3 + 1
    assert watch.reading(beer(HOUR - 1, 22.0)) == []
    sent = watch.reading(beer(HOUR, 22.0))
    assert levels(sent) == ["problem"] and "22.0 °C" in sent[0].title
    assert watch.reading(beer(2 * HOUR, 22.0)) == []
    assert watch.reading(beer(2 * HOUR + 10, 21.5)) == []  # closer, but still outside: still a problem
    assert levels(watch.reading(beer(3 * HOUR, 20.5))) == ["cleared"]


def test_beer_moving_towards_a_new_target_is_not_a_problem():
    watch = rules()
    watch.state(state(0, target=20.0), 0)
    watch.state(state(1, target=2.0), 1)  # a cold crash: the beer is 18 °C away
    for minute in range(0, 17 * 60, 10):  # cooling 1 °C an hour, to 3 °C
        assert watch.reading(beer(1 + minute * 60, 20.0 - minute / 60)) == []


def test_a_new_target_starts_the_wait_again():
    watch = rules()
    watch.state(state(0, target=20.0), 0)
    watch.reading(beer(0, 22.0))
    watch.state(state(HOUR - 10, target=19.0), HOUR - 10)
    assert watch.reading(beer(HOUR, 22.0)) == []
    assert levels(watch.reading(beer(2 * HOUR, 22.0))) == ["problem"]


def test_no_band_alert_while_off_or_in_fault():
    watch = rules()
    watch.state(state(0, mode="off"), 0)
    assert watch.reading(beer(0, 30.0)) == [] and watch.reading(beer(3 * HOUR, 30.0)) == []


def test_cutoffs_are_sent_and_cleared():
    watch = rules()
    watch.state(state(0), 0)
    sent = watch.state(state(5, cutoffs=["overtemp"]), 5)
    assert levels(sent) == ["problem"] and sent[0].title == "Ale fridge: beer too warm: no heating"
    assert levels(watch.state(state(9), 9)) == ["cleared"]


def test_storage_failing_is_sent_after_a_grace_period():
    watch = rules()
    failing = {"ok": False, "backlog": 40, "error": "the database is unreachable"}
    assert watch.storage(failing, 0) == []
    assert watch.storage(failing, STORAGE_GRACE - 1) == []
    sent = watch.storage(failing, STORAGE_GRACE)
    assert levels(sent) == ["problem"] and "unreachable" in sent[0].body
    assert levels(watch.storage({"ok": True, "backlog": 0, "error": None}, STORAGE_GRACE + 5)) == ["cleared"]
    assert watch.storage({"ok": False, "backlog": 1}, STORAGE_GRACE + 10) == []  # a blip


def test_profile_steps_and_the_end_are_news():
    watch = rules()
    running = {"step": 0, "kind": "hold", "finished": False}
    watch.state(state(0, profile=running), 0)
    step = watch.state(state(10, target=18.0, profile=running | {"step": 1, "kind": "ramp"}), 10)
    assert levels(step) == ["info"] and "step 2 (ramp)" in step[0].title
    done = watch.state(state(20, target=18.0, profile=running | {"step": 1, "finished": True}), 20)
    assert levels(done) == ["info"] and "finished" in done[0].title


def test_a_start_after_a_long_silence_says_how_long_beerpi_was_off():
    watch = rules()
    assert watch.started(1000.0, 990.0) == []
    sent = watch.started(10 * HOUR, 4 * HOUR)
    assert levels(sent) == ["info"] and "6.0 hours" in sent[0].body
    assert watch.started(1000.0, None) == []


def test_the_daily_summary_is_sent_once_a_day_at_its_time():
    import datetime as dt

    from beerpi.alerts.daily_summary import DailySummary
    summary = DailySummary([ALE], dt.time(20, 0))
    day = dt.datetime(2026, 11, 28)
    summary.state(state(0))
    for value in (19.5, 20.4, 20.1):
        summary.reading(beer(0, value))
    summary.state(state(1, fault="probe_crc"))
    summary.state(state(2))
    assert summary.due(day.replace(hour=19, minute=59)) is None
    sent = summary.due(day.replace(hour=20, minute=0))
    assert sent is not None and "Ale fridge: beer 20.1 °C (today 19.5–20.4)" in sent.body
    assert "target 20.0 °C, auto" in sent.body and "1 fault(s) today" in sent.body
    assert summary.due(day.replace(hour=23)) is None  # once a day
    assert "no beer reading today" in summary.due((day + dt.timedelta(days=1)).replace(hour=20, minute=1)).body


def test_a_server_started_after_the_summary_time_waits_for_the_next_day():
    import datetime as dt

    from beerpi.alerts.daily_summary import DailySummary
    summary = DailySummary([ALE], dt.time(8, 0))
    day = dt.datetime(2026, 11, 28)
    assert summary.due(day.replace(hour=15)) is None
    assert summary.due((day + dt.timedelta(days=1)).replace(hour=8, minute=0)) is not None


def test_a_hub_s_pi_offline_or_silent_is_told_once_and_its_return_too():
    rules = AlertRules([])
    t = 1_700_000_000.0
    assert [a.title for a in rules.node("garage", True, t, 5.0, t)] == []
    assert [(a.level, a.title) for a in rules.node("garage", False, t, 5.0, t + 10)] == [
        ("problem", "Pi garage is offline")]
    assert rules.node("garage", False, t, 5.0, t + 20) == []  # once
    assert [(a.level, a.title) for a in rules.node("garage", True, t + 30, 5.0, t + 30)] == [
        ("cleared", "Pi garage is back online")]
    assert rules.node("garage", True, t + 30, 5.0, t + 30 + 299) == []  # quiet less than 5 minutes
    [silent] = rules.node("garage", True, t + 30, 5.0, t + 30 + 300)
    assert (silent.level, silent.title) == ("problem", "Pi garage stopped sending") and "5 minutes" in silent.body
    assert [a.level for a in rules.node("garage", True, t + 400, 5.0, t + 401)] == ["cleared"]
    assert rules.node("cellar", None, None, 5.0, t + 1000) == []  # not heard of either way yet
