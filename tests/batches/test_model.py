"""The rules every stored batch and note obeys, each refused with a message naming the field."""

from __future__ import annotations

import pytest

from beerpi.base.errors import ConfigError
from beerpi.batches.model import Batch, BatchNote, check_batch, check_note, new_id

T0 = 1_700_000_000.0


def batch(**fields) -> Batch:
    return Batch(**({"id": "b1", "chamber": "ferm", "name": "Pale Ale", "started": T0} | fields))


def test_a_good_batch_passes_with_its_text_normalised():
    checked = check_batch(batch(name="Ko\u0308lsch", style="Kölsch", notes="line 1\n\tline 2", og=1, fg=1.01))
    assert checked.name == "Kölsch" and checked.og == 1.0 and isinstance(checked.og, float)
    assert checked.open and not checked.edited(ended=T0 + 1).open


@pytest.mark.parametrize(("fields", "words"), [
    ({"name": ""}, "name must be 1 to 80"),
    ({"name": " Ale"}, "name must be 1 to 80"),
    ({"name": "x" * 81}, "name must be 1 to 80"),
    ({"name": "two\nlines"}, "name must be on one line"),
    ({"name": 7}, "name must be text"),
    ({"style": ""}, "style must be 1 to 80"),
    ({"notes": "x" * 2001}, "notes must be at most 2000"),
    ({"notes": "bell\x07"}, "notes may hold new lines"),
    ({"og": 1050}, "og must be a specific gravity"),
    ({"fg": 12.0}, "fg must be a specific gravity"),
    ({"og": float("nan")}, "og must be a specific gravity"),
    ({"og": True}, "og must be a specific gravity"),
    ({"ended": T0 - 1}, "ended must not be before started"),
    ({"started": "yesterday"}, "started must be a Unix time"),
    ({"chamber": ""}, "chamber"),
])
def test_a_bad_batch_is_refused_naming_the_field(fields, words):
    with pytest.raises(ConfigError, match=words):
        check_batch(batch(**fields))


def test_a_note_needs_text_or_a_gravity():
    assert check_note(BatchNote("n1", "b1", T0, " dry hop 100 g Citra ")).text == "dry hop 100 g Citra"
    assert check_note(BatchNote("n1", "b1", T0, "", 1.020)).gravity == 1.020
    with pytest.raises(ConfigError, match="needs text, a gravity, or both"):
        check_note(BatchNote("n1", "b1", T0, "  "))
    with pytest.raises(ConfigError, match="text must be at most 500"):
        check_note(BatchNote("n1", "b1", T0, "x" * 501))
    with pytest.raises(ConfigError, match="gravity must be a specific gravity"):
        check_note(BatchNote("n1", "b1", T0, "", 1.3))


def test_ids_are_unique_and_sort_in_creation_order():
    ids = [new_id() for _ in range(100)]
    assert len(set(ids)) == 100 and ids == sorted(ids) and all(len(i) == 24 for i in ids)
