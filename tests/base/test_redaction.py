"""A URL's password never reaches a log, an error or a stored record."""

import pytest

from beerpi.base.redaction import redact


@pytest.mark.parametrize("url, shown", [
    ("mongodb://brewer:hops@db.local:27017/beerpi", "mongodb://brewer:***@db.local:27017/beerpi"),
    ("mqtt://me:secret@broker/x", "mqtt://me:***@broker/x"),
    ("mqtts://me:p%40ss@broker:8884/brewery", "mqtts://me:***@broker:8884/brewery"),
    ("mqtt://broker/x", "mqtt://broker/x"),
    ("sqlite:///data/beerpi.sqlite3", "sqlite:///data/beerpi.sqlite3"),
])
def test_a_password_is_hidden_and_nothing_else_changes(url, shown):
    assert redact(url) == shown
