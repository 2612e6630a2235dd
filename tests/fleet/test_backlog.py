"""What the Pi sends again, without I/O: links chained from the hub's mark, never splitting a
millisecond, and which series may be behind."""

from __future__ import annotations

from beerpi.fleet import wire
from beerpi.fleet.backlog import IN_FLIGHT, LINK_BYTES, LiveWatch, encode_events, encode_readings, is_behind, links
from beerpi.fleet.chain import SeriesChain
from beerpi.hardware.probe import Reading
from beerpi.repository import Event


def readings(count: int, start_ms: int = 1_000_000, step_ms: int = 5000) -> list[Reading]:
    return [Reading((start_ms + i * step_ms) / 1000, "28-a", "beer", 18.0 + i / 1000, True) for i in range(count)]


def parsed(messages) -> list[wire.Link]:
    return [wire.parse_link(payload.encode()) for payload, _, _ in messages]


def test_a_long_stretch_goes_in_full_links_chained_from_the_mark():
    items = readings(1201)
    sent = parsed(links(items, 999_000, encode_readings))
    assert [len(link.items) for link in sent] == [500, 500, 201]
    assert [link.after for link in sent] == [999_000, sent[0].last, sent[1].last]
    assert not any(link.start for link in sent)
    # And the hub that held everything up to the mark holds all of it once these are stored
    chain = SeriesChain(acked=999_000)
    for link in sent:
        chain.stored(link.after, link.start, link.last)
    assert chain.acked == wire.to_ms(items[-1].ts)


def test_without_a_mark_the_first_link_starts_the_series():
    sent = parsed(links(readings(3), None, encode_readings))
    assert len(sent) == 1 and sent[0].start and sent[0].after is None


def test_events_of_one_millisecond_never_straddle_two_links():
    # 499 events, then three of one change at one millisecond: the first link stops before them
    events = [Event(1000 + i, "heater_on", {"chamber": "main"}) for i in range(499)]
    events += [Event(2000, kind, {"chamber": "main"}) for kind in ("heater_off", "fault", "cooler_on")]
    sent = parsed(links(events, None, encode_events))
    assert [len(link.items) for link in sent] == [499, 3]
    assert sent[1].after == sent[0].last == 1_498_000


def test_a_link_too_large_for_a_message_is_split():
    long_detail = {"chamber": "main", "note": "x" * 2000}
    events = [Event(1000 + i, "profile", long_detail) for i in range(200)]
    messages = list(links(events, 5, encode_events))
    assert all(len(payload.encode()) <= LINK_BYTES for payload, _, _ in messages)
    sent = parsed(messages)
    assert sum(len(link.items) for link in sent) == 200 and len(sent) > 1
    assert sent[0].after == 5 and all(b.after == a.last for a, b in zip(sent, sent[1:]))


def test_behind_only_once_older_than_what_may_be_in_flight():
    now = 10_000.0
    assert is_behind(wire.to_ms(now - IN_FLIGHT - 1), now)
    assert not is_behind(wire.to_ms(now - IN_FLIGHT + 1), now)
    assert not is_behind(None, now)


def test_a_series_whose_live_items_are_not_acknowledged_in_time_is_a_suspect():
    clock = [0.0]
    watch = LiveWatch(clock=lambda: clock[0])
    watch.sent("readings/28-a", 1000)
    watch.sent("events", 500)
    assert watch.suspects({}) == set()  # nothing sent IN_FLIGHT ago yet
    clock[0] = IN_FLIGHT + 1
    watch.sent("readings/28-a", 2000)
    # What was newest IN_FLIGHT ago is compared with the marks; later items are still on their way
    assert watch.suspects({"readings/28-a": 1000}) == {"events"}
    assert watch.suspects({"readings/28-a": 999, "events": 500}) == {"readings/28-a"}
    clock[0] = 2 * IN_FLIGHT + 2
    assert watch.suspects({"readings/28-a": 1000, "events": 500}) == {"readings/28-a"}
    assert watch.suspects({"readings/28-a": 2000, "events": 500}) == set()
