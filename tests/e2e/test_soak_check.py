"""The soak's checker catches each kind of violation in a recorded trace, and passes a clean one."""

from __future__ import annotations

from beerpi.control.thermostat import COMPRESSOR_TIMINGS, HEATER_TIMINGS, ChamberLimits
from bench.soak_check import ChamberInfo, ClientRecord, ModeLog, Row, client_row, safety_rows, storage_row

BEER, AIR = "28-000000000001", "28-000000000002"
CHAMBER = ChamberInfo("ale", BEER, AIR, ChamberLimits(heater=HEATER_TIMINGS, cooler=COMPRESSOR_TIMINGS))
TICK_S = 600.0  # simulated seconds between ticks (0.1 s of real time at ×6000)
WALL_PER_SIM = 0.1 / TICK_S


def trace(beer: list[float | str], switches: list[tuple[float, str, bool]]) -> list[dict]:
    """Reads of both probes every tick (beer: a value or a fault code) and switches at simulated times."""
    records = []
    for tick, value in enumerate(beer, start=1):
        sim = tick * TICK_S
        read = {"e": "read", "chamber": "ale", "sim": sim, "w": sim * WALL_PER_SIM}
        records.append({**read, "probe": BEER, **({"fault": value} if isinstance(value, str) else {"value": value})})
        records.append({**read, "probe": AIR, "value": 18.0, "sim": sim + 1, "w": sim * WALL_PER_SIM + 0.001})
    records += [{"e": "switch", "chamber": "ale", "output": output, "on": on, "sim": sim, "w": sim * WALL_PER_SIM}
                for sim, output, on in switches]
    return records


def failed(rows: list[Row]) -> dict[str, str]:
    return {row.name: row.figure for row in rows if not row.passed}


def test_a_clean_trace_passes() -> None:
    # heater on after a tick at 18 °C, off again two ticks later, cooler later, nothing overlapping
    records = trace([18.0] * 10, [(1210, "heater", True), (2410, "heater", False), (4810, "cooler", True),
                                  (5410, "cooler", False)])
    assert failed(safety_rows([records], [CHAMBER], 0.1, ModeLog())) == {}


def test_an_output_on_in_a_fault_is_caught() -> None:
    # the beer probe fails at tick 3; the heater is still on at tick 4
    records = trace([18.0, 18.0, "probe_crc", "probe_crc", 18.0], [(1210, "heater", True), (2900, "heater", False)])
    assert list(failed(safety_rows([records], [CHAMBER], 0.1, ModeLog()))) == [
        "no output on in a fault or without a valid reading"]


def test_heater_and_cooler_together_are_caught() -> None:
    records = trace([18.0] * 6, [(1210, "heater", True), (1900, "cooler", True), (2410, "cooler", False),
                                 (2500, "heater", False)])
    assert "heater and cooler never on together" in failed(safety_rows([records], [CHAMBER], 0.1, ModeLog()))


def test_a_short_cycled_compressor_is_caught() -> None:
    # the cooler stops at 1900 s and starts again 100 s later (minimum off 300 s)
    records = trace([21.0] * 8, [(1210, "cooler", True), (1900, "cooler", False), (2000, "cooler", True),
                                 (3800, "cooler", False)])
    assert "no compressor restart within its minimum off time" in failed(
        safety_rows([records], [CHAMBER], 0.1, ModeLog()))


def test_an_output_on_in_mode_off_is_caught() -> None:
    modes = ModeLog()
    modes.add("ale", 1500 * WALL_PER_SIM, 1600 * WALL_PER_SIM, "off")
    records = trace([18.0] * 6, [(1210, "heater", True), (3000, "heater", False)])
    assert "no output on in mode off" in failed(safety_rows([records], [CHAMBER], 0.1, modes))


def test_an_output_on_past_a_cutoff_is_caught() -> None:
    records = trace([18.0, 18.0, 31.0, 31.0, 18.0], [(1210, "heater", True), (3100, "heater", False)])
    assert "no output on past a cutoff" in failed(safety_rows([records], [CHAMBER], 0.1, ModeLog()))


def test_a_lost_reading_is_caught() -> None:
    logged = [("p", float(ts)) for ts in range(100)]
    stored = logged[:40] + logged[41:]
    row = storage_row(logged, stored, killed_at=None, tick=0.1)
    assert not row.passed and "1 lost" in row.figure


def test_the_last_batch_before_a_kill_may_be_lost_but_no_more() -> None:
    # The writer's last batch is 60 ticks (6 s at 0.1 s), plus 1 s for the write under way
    logged = [("p", ts / 10) for ts in range(100)]
    assert storage_row(logged, logged[:-5], killed_at=9.9, tick=0.1).passed  # 0.5 s
    assert storage_row(logged, logged[:-65], killed_at=9.9, tick=0.1).passed  # 6.5 s
    assert not storage_row(logged, logged[:-75], killed_at=9.9, tick=0.1).passed  # 7.5 s


def test_a_reading_stored_twice_is_caught() -> None:
    logged = [("p", float(ts)) for ts in range(10)]
    assert not storage_row(logged, logged + [logged[3]], killed_at=None, tick=0.1).passed


def test_a_client_that_missed_a_reading_is_caught() -> None:
    logged = [(float(i), ("p", float(i))) for i in range(20)]
    whole = ClientRecord("ws", hello=2.5, left=15.0, readings=[("p", float(i)) for i in range(3, 15)])
    assert client_row([whole], logged).passed
    gap = ClientRecord("sse", 2.5, 15.0, [("p", float(i)) for i in range(3, 15) if i != 7])
    short = ClientRecord("ws", 2.5, 15.0, [("p", float(i)) for i in range(3, 10)])
    assert not client_row([gap], logged).passed
    assert not client_row([short], logged).passed
