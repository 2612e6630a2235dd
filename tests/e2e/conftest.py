"""Servers the browser tests share: one simulated chamber, or the two of examples/two-chambers.toml."""

from __future__ import annotations

import pytest

from tests.support.dashboard_browser import TWO_CHAMBERS, running_server


@pytest.fixture
def two(tmp_path):
    """A server with the two simulated chambers of examples/two-chambers.toml."""
    with running_server(tmp_path / "b.sqlite3", "--config", str(TWO_CHAMBERS)) as server:
        yield server


@pytest.fixture
def one(tmp_path):
    """A server with the one simulated chamber of the flags."""
    with running_server(tmp_path / "b.sqlite3") as server:
        yield server
