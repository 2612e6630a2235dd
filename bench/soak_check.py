"""The soak's invariants, checked over what the simulated hardware and the monitor recorded.

Pure: fed the trace records of each server process (``beerpi.sim.soak_hooks``), the chambers'
limits and what the soak did (modes set, when it killed the server), it returns rows of an
invariant table. The safety rules are not restated here: the switch log is replayed through
``beerpi.control.invariants.SafetyCheck``, the same checker the thermostat's property tests use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from beerpi.control.invariants import SafetyCheck
from beerpi.control.plausibility import PLAUSIBLE_RANGE
from beerpi.control.thermostat import COOLER, HEATER, ChamberLimits
from beerpi.hydrometers.ispindel import SERIES_PREFIX
from beerpi.repository.batching import BATCH_SAMPLES, MAX_BATCH_DELAY

Record = dict[str, Any]
WRITE_SLACK_S = 1.0  # beyond the writer's batch: the write under way when the server was killed


def loss_window(tick: float) -> float:
    """How far before a ``kill -9`` samples may be lost: the writer's last batch (BATCH_SAMPLES
    ticks, at most MAX_BATCH_DELAY; see beerpi/repository/batching.py) and the write under way."""
    return min(BATCH_SAMPLES * tick, MAX_BATCH_DELAY) + WRITE_SLACK_S
DELIVERY_SLACK_S = 0.5  # a reading logged this close to a client's leaving may still be in flight


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the invariant table."""

    name: str
    passed: bool
    figure: str


@dataclass(frozen=True, slots=True)
class ChamberInfo:
    id: str
    beer_probe: str
    air_probe: str | None
    limits: ChamberLimits


@dataclass(slots=True)
class ModeLog:
    """The modes the soak set, per chamber: (sent, acknowledged, mode), real time."""

    changes: dict[str, list[tuple[float, float, str]]] = field(default_factory=dict)

    def add(self, chamber: str, sent: float, acked: float, mode: str) -> None:
        self.changes.setdefault(chamber, []).append((sent, acked, mode))

    def off(self, chamber: str, wall: float, stopping: bool) -> bool:
        """Whether ``off`` was in force at ``wall``: from its acknowledgement for an output
        that is on, from its sending for one that stops (the stop is its doing)."""
        mode = "auto"
        for sent, acked, new in self.changes.get(chamber, []):
            if new == "off" and (sent if stopping else acked) <= wall:
                mode = "off"
            elif new != "off" and sent <= wall:
                mode = new
        return mode == "off"


# What each broken rule of SafetyCheck reads like, by row of the table.
SAFETY_ROWS = (
    ("no output on in a fault or without a valid reading", ("with fault", "without a valid")),
    ("no output on past a cutoff", ("max_beer", "min_beer", "max_air", "min_air")),
    ("no output on in mode off", ("in mode off",)),
    ("heater and cooler never on together", ("together",)),
    ("no compressor restart within its minimum off time", ("cooler switched ON after only",)),
    ("heater minimum off, minimum on times and dead time", ("heater switched ON after only",
                                                            "switched OFF after only", "after the other output")),
    ("runaway: no output on 55 min without effect", ("without moving",)),
)


@dataclass(slots=True)
class SafetyTally:
    """What the replay saw: broken rules and how much was checked."""

    broken: list[tuple[str, float, str]] = field(default_factory=list)  # (chamber, wall, message)
    ticks: int = 0
    fault_ticks: int = 0
    cutoff_ticks: int = 0
    off_ticks: int = 0
    starts: dict[str, int] = field(default_factory=lambda: {HEATER: 0, COOLER: 0})
    shortest_off: dict[str, float] = field(default_factory=dict)


def _observed(value: Any, prefix: str) -> tuple[float | None, str | None]:
    """(value, fault) of one probe's latest read: a fault code, a value outside the
    DS18B20's range, or no read yet are all no valid value."""
    if value is None:
        return None, "no_reading"
    if isinstance(value, str):
        return None, prefix + value
    low, high = PLAUSIBLE_RANGE
    if not low <= value <= high:
        return None, prefix + "probe_out_of_range"
    return value, None


def _cutoffs(limits: ChamberLimits, beer: float | None, air: float | None) -> tuple[str, ...]:
    found = []
    if beer is not None and beer >= limits.max_beer:
        found.append("overtemp")
    if beer is not None and beer <= limits.min_beer:
        found.append("undertemp")
    if air is not None and limits.max_air is not None and air > limits.max_air:
        found.append("air_too_hot")
    if air is not None and limits.min_air is not None and air < limits.min_air:
        found.append("air_too_cold")
    return tuple(found)


def replay_safety(records: Sequence[Record], chamber: ChamberInfo, interval: float, modes: ModeLog,
                  tally: SafetyTally) -> None:
    """Replay one process's switch log and probe reads of ``chamber`` through SafetyCheck.

    The monitor reads every probe at the start of a tick, then decides and switches, so the
    outputs seen at the start of the next tick are the decision on this tick's reads: each
    tick is checked against the reads of the one before. A switch is checked against the
    reads of its own tick once they are all in (a settings change may switch between ticks).
    """
    probes = [p for p in (chamber.beer_probe, chamber.air_probe) if p is not None]
    events = sorted((r for r in records if r.get("chamber") == chamber.id and r["e"] in ("read", "switch")),
                    key=lambda r: r["sim"])
    check = SafetyCheck(chamber.limits, start=0.0, tick=_longest_tick(events) or interval,
                        air_probe=chamber.air_probe is not None)
    on = {HEATER: False, COOLER: False}
    stopped_at: dict[str, float] = {}
    current: dict[str, Any] = dict.fromkeys(probes)
    this_tick: dict[str, Any] = {}
    tick_wall: float | None = None

    def judge(now: float, wall: float, seen: dict[str, Any], stopping: bool) -> None:
        beer, beer_fault = _observed(seen.get(chamber.beer_probe), "")
        air, air_fault = _observed(seen.get(chamber.air_probe), "air_") if chamber.air_probe else (None, None)
        fault = beer_fault or air_fault
        mode = "off" if modes.off(chamber.id, wall, stopping) else "auto"
        cutoffs = _cutoffs(chamber.limits, beer, air)
        check.observe(beer, air)
        for message in check.outputs(now, on[HEATER], on[COOLER], fault, mode, cutoffs):
            tally.broken.append((chamber.id, wall, message))
        if not stopping:
            tally.ticks += 1
            tally.fault_ticks += fault is not None
            tally.cutoff_ticks += bool(cutoffs)
            tally.off_ticks += mode == "off"

    for event in events:
        if event["e"] == "read":
            if tick_wall is None or event["w"] - tick_wall > interval / 2:
                current.update(this_tick)
                this_tick, tick_wall = {}, event["w"]
                judge(event["sim"], event["w"], current, stopping=False)
            this_tick[event["probe"]] = event.get("fault", event.get("value"))
            continue
        output, now = event["output"], event["sim"]
        on[output] = event["on"]
        if event["on"]:
            tally.starts[output] += 1
            if output in stopped_at:
                gap = now - stopped_at[output]
                tally.shortest_off[output] = min(tally.shortest_off.get(output, gap), gap)
        else:
            stopped_at[output] = now
        complete = all(probe in this_tick for probe in probes)
        judge(now, event["w"], {**current, **this_tick} if complete else current, stopping=not event["on"])


def _longest_tick(events: Iterable[Record]) -> float:
    reads = [e["sim"] for e in events if e["e"] == "read"]
    return max((b - a for a, b in zip(reads, reads[1:])), default=0.0)


def safety_rows(segments: Sequence[Sequence[Record]], chambers: Sequence[ChamberInfo], interval: float,
                modes: ModeLog) -> list[Row]:
    """The safety part of the table, from the simulated hardware's own records of every process."""
    tally = SafetyTally()
    for records in segments:
        for chamber in chambers:
            replay_safety(records, chamber, interval, modes, tally)
    rows = []
    for name, phrases in SAFETY_ROWS:
        hits = [b for b in tally.broken if any(phrase in b[2] for phrase in phrases)]
        figure = f"{len(hits)} broken"
        if "fault" in name:
            figure += f" in {tally.ticks} ticks, {tally.fault_ticks} of them in a fault"
        elif "cutoff" in name:
            figure += f"; {tally.cutoff_ticks} ticks past a cutoff"
        elif "mode off" in name:
            figure += f"; {tally.off_ticks} ticks in mode off"
        elif "compressor" in name:
            shortest = tally.shortest_off.get(COOLER)
            figure += (f" in {tally.starts[COOLER]} starts; shortest off "
                       f"{'-' if shortest is None else f'{shortest:.0f} s'} (simulated)")
        elif "heater minimum" in name:
            figure += f"; {tally.starts[HEATER]} heater starts"
        if hits:
            figure += f"; first: {hits[0][0]}: {hits[0][2]}"
        rows.append(Row(name, not hits, figure))
    return rows


def samples_of(records: Iterable[Record]) -> list[tuple[str, float]]:
    """The samples the monitor took, as (probe, ts), in the order it took them."""
    return [(r["probe"], r["ts"]) for r in records if r["e"] == "sample"]


def storage_row(logged: Sequence[tuple[str, float]], stored: Sequence[tuple[str, float]],
                killed_at: float | None, tick: float) -> Row:
    """Every sample stored exactly once, except at most the last batch before a ``kill -9``
    (``loss_window``); a sample stored but not yet logged may only be the tick in flight then."""
    stored = [sample for sample in stored if not sample[0].startswith(SERIES_PREFIX)]  # hydrometers: not the monitor's
    stored_set, logged_set = set(stored), set(logged)
    duplicates = len(stored) - len(stored_set)
    lost = sorted(logged_set - stored_set, key=lambda s: s[1])
    unlogged = sorted(stored_set - logged_set, key=lambda s: s[1])

    def near_kill(samples: list[tuple[str, float]], window: float) -> bool:
        return killed_at is not None and all(killed_at - window <= ts <= killed_at + tick for _, ts in samples)

    window = loss_window(tick)
    ok_lost = not lost or near_kill(lost, window)
    ok_unlogged = not unlogged or near_kill(unlogged, tick)
    figure = (f"{len(logged)} sampled, {len(stored)} stored, {duplicates} duplicates, {len(lost)} lost"
              + (f" (within {window:g} s, the writer's last batch, before the kill -9)" if lost and ok_lost else "")
              + (f" (first at ts {lost[0][1]:.3f})" if lost and not ok_lost else "")
              + (f", {len(unlogged)} stored but not in the monitor's log" if unlogged else ""))
    return Row("every sample stored exactly once", duplicates == 0 and ok_lost and ok_unlogged, figure)


@dataclass(slots=True)
class ClientRecord:
    """What one well-behaved client saw: real times of its hello and of its leaving, and its readings."""

    kind: str  # ws or sse
    hello: float
    left: float
    readings: list[tuple[str, float]]


def client_row(clients: Sequence[ClientRecord], logged: Sequence[tuple[float, tuple[str, float]]]) -> Row:
    """Every well-behaved client received every reading logged while it was connected, in order.

    ``logged`` is (real time logged, (probe, ts)) of every sample. A client's readings must be
    one unbroken run of the log, from the first sample logged after its hello to the last one
    logged ``DELIVERY_SLACK_S`` before it left (a server killed under it: before the kill).
    """
    order = {sample: index for index, (_, sample) in enumerate(logged)}
    walls = [wall for wall, _ in logged]
    bad: list[str] = []
    delivered = 0
    for number, client in enumerate(clients):
        indexes = [order.get(sample, -1) for sample in client.readings]
        delivered += len(indexes)
        first = next((i for i, w in enumerate(walls) if w > client.hello), len(walls))
        last = max((i for i, w in enumerate(walls) if w < client.left - DELIVERY_SLACK_S), default=-1)
        if -1 in indexes:
            bad.append(f"client {number} ({client.kind}) got a reading the monitor never logged")
        elif indexes and indexes != list(range(indexes[0], indexes[0] + len(indexes))):
            bad.append(f"client {number} ({client.kind}) missed or reordered readings")
        elif last >= first and (not indexes or indexes[0] > first or indexes[-1] < last):
            bad.append(f"client {number} ({client.kind}) missed readings at the start or the end "
                       f"(got {len(indexes)}, expected {last - first + 1} at least)")
    figure = f"{len(clients)} clients, {delivered} readings delivered, {len(bad)} clients short"
    return Row("well-behaved clients got every reading, in order", not bad,
               figure + (f"; first: {bad[0]}" if bad else ""))


def profile_rows(records: Sequence[Record], chamber: ChamberInfo, band_extra: float = 0.5,
                 expect: float = 0.95) -> list[Row]:
    """Per profile step: after the beer first reaches target ± (hysteresis + ``band_extra``),
    the share of its samples within it. A restart, a fault, a cutoff or mode off starts the
    approach again (the beer drifts while the outputs are held off); its samples do not count."""
    tallies: dict[int, list[int]] = {}
    target = hysteresis = None
    step: int | None = None
    settled = False
    disturbed = True
    for record in records:
        if record["e"] == "process":
            settled, step = False, None
        elif record["e"] == "state" and record["chamber"] == chamber.id:
            if record["step"] != step:
                settled = False
            step, target, hysteresis = record["step"], record["target"], record["hysteresis"]
            disturbed = bool(record["fault"] or record["cutoffs"] or record["mode"] != "auto"
                             or record["paused"])
            if disturbed:
                settled = False
        elif record["e"] == "read" and record.get("chamber") == chamber.id and "injected" in record:
            settled, disturbed = False, True
        elif (record["e"] == "sample" and record["probe"] == chamber.beer_probe and step is not None
              and target is not None and not disturbed):
            inside = abs(record["t"] - target) <= hysteresis + band_extra
            settled = settled or inside
            if settled:
                tally = tallies.setdefault(step, [0, 0])
                tally[0] += inside
                tally[1] += 1
    rows = []
    for index in sorted(tallies):
        within, total = tallies[index]
        share = within / total if total else 0.0
        rows.append(Row(f"profile followed, step {index + 1}", share > expect,
                        f"{share:.1%} of {total} samples within target ± (hysteresis + {band_extra:g} °C)"))
    return rows or [Row("profile followed", False, "no sample after any step's approach")]


def table(rows: Sequence[Row]) -> str:
    """The rows as a plain-text table."""
    width = max(len(row.name) for row in rows)
    lines = [f"{'invariant':<{width}}  result  figure", f"{'-' * width}  ------  ------"]
    lines += [f"{row.name:<{width}}  {'PASS' if row.passed else 'FAIL':<6}  {row.figure}" for row in rows]
    return "\n".join(lines)


def resource_rows(rss_warm: int, rss_end: int, fds_base: int, fds_end: int, slack_mb: float = 20.0) -> list[Row]:
    """Memory after the run within ``slack_mb`` of after warm-up; open descriptors back at baseline."""
    grown = (rss_end - rss_warm) / 2 ** 20
    return [Row("memory after the run within 20 MB of after warm-up", grown <= slack_mb,
                f"{rss_warm / 2 ** 20:.1f} MB → {rss_end / 2 ** 20:.1f} MB ({grown:+.1f} MB)"),
            Row("open file descriptors back at baseline", fds_end <= fds_base,
                f"{fds_base} at baseline, {fds_end} at the end")]


def passed(rows: Iterable[Row]) -> bool:
    return all(row.passed for row in rows)

