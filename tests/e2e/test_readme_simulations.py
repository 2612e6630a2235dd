"""The README's two example simulations run at once, as a user types them: two real
run_server.py processes in one working directory, each with its own port and database."""

from __future__ import annotations

import re
import shlex
import shutil

from playwright.sync_api import expect

from tests.support.dashboard_browser import (
    WAIT_MS,
    chromium,
    open_page,
    skip_without_chromium,
    wait_live,
)
from tests.support.process import ROOT, Server

skip_without_chromium()

TEMPERATURE = re.compile(r"^\d+\.\d$")


def readme_simulations() -> list[list[str]]:
    """The ARGS of the README's `make run ARGS="--hardware sim ..."` examples."""
    lines = re.findall(r'^make run ARGS="(--hardware sim[^"]*)"', (ROOT / "README.md").read_text(), re.M)
    return [shlex.split(line) for line in lines]


def port_of(args: list[str]) -> int:
    return int(args[args.index("--port") + 1]) if "--port" in args else 8888  # make run's default


def on_a_free_port(args: list[str]) -> list[str]:
    """The same command on a port the test may use (the README's may be taken on this machine)."""
    if "--port" in args:
        at = args.index("--port")
        args = args[:at] + args[at + 2:]
    return [*args, "--port", "0"]


def test_the_readmes_two_simulations_run_at_once_each_with_its_own_database(tmp_path):
    simulations = readme_simulations()
    assert len(simulations) == 2, simulations
    assert port_of(simulations[0]) != port_of(simulations[1])  # as written, they do not clash on a port
    shutil.copytree(ROOT / "examples", tmp_path / "examples")  # paths as in the README, from the checkout
    servers = [Server(*on_a_free_port(args), cwd=tmp_path) for args in simulations]
    try:
        ports = [server.wait_listening() for server in servers]
        # Each stores in its own database, named for what it simulates
        assert (tmp_path / "data" / "simulation.sqlite3").exists()
        assert (tmp_path / "data" / "simulation-two-chambers.sqlite3").exists()
        with chromium() as browser:
            for port, chambers in zip(ports, (["main"], ["ale", "lager"])):
                with open_page(browser, port) as watched:
                    page = watched.page
                    wait_live(page)
                    expect(page.get_by_test_id("chamber")).to_have_count(len(chambers))
                    for chamber in chambers:
                        expect(watched.chamber(chamber).get_by_test_id("temperature")).to_have_text(
                            TEMPERATURE, timeout=WAIT_MS)
                    expect(page.get_by_test_id("storage")).to_be_hidden()  # no storage trouble to report
        for server in servers:
            assert server.process.poll() is None, server.log()
    finally:
        codes = [server.stop() if server.process.poll() is None else server.process.returncode for server in servers]
        for server in servers:
            server.kill()
    assert codes == [0, 0], [server.log() for server in servers]
    for server in servers:
        assert " ERROR " not in server.log(), server.log()


def test_a_second_beerpi_on_the_same_database_stops_at_once_naming_the_first(tmp_path):
    first_args = on_a_free_port(readme_simulations()[0])
    first = Server(*first_args, cwd=tmp_path)
    try:
        first.wait_listening()
        second = Server(*first_args, cwd=tmp_path)
        assert second.process.wait(20) == 1
        last = second.log().strip().splitlines()[-1]
        assert last.startswith("run_server.py: error: another BeerPi (PID ")
        assert f"PID {first.process.pid})" in last and "data/simulation.sqlite3" in last
        assert "Traceback" not in second.log()
        assert first.process.poll() is None  # the first carries on
    finally:
        assert first.stop() == 0
        first.kill()
