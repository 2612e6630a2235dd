"""The ``beerpi`` command as a new user types it: its commands, the token, quiet logs."""

from __future__ import annotations

import signal
import urllib.request

from beerpi.repository.sqlite import SqliteRepository
from tests.cli.test_release import beerpi
from tests.support.process import TEST_TOKEN, Server


def test_help_lists_the_commands_and_an_unknown_one_is_refused():
    listed = beerpi("help")
    assert listed.returncode == 0
    for command in ("serve", "export", "copy", "release", "token"):
        assert f"  {command} " in listed.stdout
    unknown = beerpi("frobnicate")
    assert unknown.returncode == 2 and "unknown command 'frobnicate'" in unknown.stderr


def test_export_and_copy_are_commands_of_beerpi(tmp_path):
    # the first wave's complaint: "run_server.py: error: unrecognized arguments: export"
    SqliteRepository(tmp_path / "empty.sqlite3").close()
    result = beerpi("export", "--db", f"sqlite:///{tmp_path}/empty.sqlite3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("ts,unix_ts,probe")
    assert beerpi("copy", "--help").returncode == 0


def test_token_prints_the_servers_token_and_never_creates_one(tmp_path):
    db = f"sqlite:///{tmp_path}/b.sqlite3"
    missing = beerpi("token", "--db", db)
    assert missing.returncode == 1 and "no token yet" in missing.stderr
    assert not (tmp_path / "token").exists()
    # Once the server has started (and created its token), the command prints it
    server = Server("--port", "0", "--hardware", "sim", "--db", db, token=None)
    try:
        server.wait_listening()
    finally:
        assert server.stop(signal.SIGTERM) == 0
    printed = beerpi("token", "--db", db)
    assert printed.returncode == 0
    token = printed.stdout.strip()
    assert token == (tmp_path / "token").read_text().strip()
    assert f"?token={token}" in printed.stderr and f"?token={token}" in server.log()


def test_serving_logs_what_matters_not_every_request_and_warns_of_unknown_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("BEERPI_INTERVALL", "1")  # a typo of BEERPI_INTERVAL
    server = Server("--port", "0", "--hardware", "sim", "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    try:
        port = server.wait_listening()
        for path in ("/", "/static/style.css"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as response:
                assert response.status == 200
    finally:
        assert server.stop(signal.SIGTERM) == 0
    log = server.log()
    assert "BEERPI_INTERVALL matches no option" in log
    assert "GET /static/style.css" not in log and "200 GET /" not in log
    assert TEST_TOKEN not in log.replace(f"token={TEST_TOKEN}", "")  # only in the links to open
