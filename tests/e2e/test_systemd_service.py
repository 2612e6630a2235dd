"""The installed service under a real systemd: ``make install``, start, ``kill -9``, a hang.

systemd runs as PID 1 of its own namespaces (tests/support/systemd_namespace.py), so the machine's
/etc, /opt and /var are untouched. Everything else is as on a Pi: ``make install`` with its
defaults (a ``beerpi`` system user, /opt/beerpi, /etc/beerpi, /var/lib/beerpi), the unit with
its hardening, sd_notify readiness and the watchdog. The one thing faked is the GPIO chip:
the recording fake of RPi.GPIO, whose log shows what the relay pin was left at.
"""

from __future__ import annotations

import json
import signal
import urllib.request
from collections.abc import Iterator

import pytest

from tests.support.fake_gpio import fake_gpio_module
from tests.support.mqtt_broker import free_port
from tests.support.process import ROOT
from tests.support.systemd_namespace import SOURCE, SystemdNamespace, unavailable
from tests.support.waiting import poll

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))

HEATER_PIN = 17  # the pin beerpi.env names by default
FAKES_INSIDE = "/opt/beerpi-test-fakes"  # outside /tmp, which the unit makes private
GPIO_LOG = "/var/lib/beerpi/gpio.log"


@pytest.fixture(scope="module")
def systemd(tmp_path_factory) -> Iterator[SystemdNamespace]:
    namespace = SystemdNamespace(tmp_path_factory.mktemp("systemd"), checkout=ROOT)
    try:
        yield namespace
    finally:
        namespace.close()


@pytest.fixture(scope="module")
def service(systemd: SystemdNamespace) -> int:
    """``make install``, then the user's settings, then ``systemctl start beerpi``: the port it serves."""
    installed = systemd.run("make", "install", timeout=600)
    assert installed.returncode == 0, installed.stdout[-3000:] + installed.stderr[-3000:]
    port = free_port()
    # The user sets the relay up in beerpi.env (the heater pin is there already) and keeps
    # the dashboard on loopback here; the recording GPIO fake stands in for the chip
    settings = (f"BEERPI_HOST=127.0.0.1\nBEERPI_PORT={port}\nBEERPI_PROBES=sim\nBEERPI_HEATER=gpio\n"
                "BEERPI_TARGET=28\nBEERPI_MIN_OFF=0\n")
    assert systemd.run("sh", "-c", f"printf '{settings}' >> /etc/beerpi/beerpi.env").returncode == 0
    fakes = systemd.run("cp", "-r", f"{SOURCE}/tests/support/fakes", FAKES_INSIDE)
    assert fakes.returncode == 0, fakes.stderr
    drop_in = f"[Service]\nEnvironment=PYTHONPATH={FAKES_INSIDE} BEERPI_FAKE_GPIO_LOG={GPIO_LOG}\n"
    assert systemd.run("sh", "-c", "mkdir -p /etc/systemd/system/beerpi.service.d && printf "
                       f"'{drop_in}' > /etc/systemd/system/beerpi.service.d/fake-gpio.conf").returncode == 0
    assert systemd.run("systemctl", "daemon-reload").returncode == 0
    started = systemd.run("systemctl", "start", "beerpi", timeout=90)  # Type=notify: returns once ready
    assert started.returncode == 0, started.stderr + systemd.run("journalctl", "-u", "beerpi", "--no-pager").stdout
    return port


def heater_level(systemd: SystemdNamespace) -> int:
    calls = systemd.run("cat", GPIO_LOG).stdout.splitlines()
    return fake_gpio_module().level_after(calls, HEATER_PIN) if calls else -1


def healthz(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return json.load(response)
    except OSError:
        return None


def test_the_installed_service_serves_the_dashboard_and_runs_as_its_own_user(systemd, service):
    assert systemd.show("beerpi", "ActiveState") == "active"
    assert systemd.show("beerpi", "StatusText").startswith("serving")  # sd_notify from the server
    with urllib.request.urlopen(f"http://127.0.0.1:{service}/", timeout=10) as response:
        assert response.status == 200 and b"BeerPi" in response.read()
    user = systemd.run("ps", "-o", "user=", "-p", systemd.show("beerpi", "MainPID")).stdout.strip()
    assert user == "beerpi"
    assert systemd.run("stat", "-c", "%a %U", "/var/lib/beerpi").stdout.split() == ["700", "beerpi"]
    token = systemd.run("beerpi", "token")
    assert token.returncode == 0  # the token alone on stdout, the link to open on stderr
    assert f"http://127.0.0.1:{service}/?token={token.stdout.strip()}" in token.stderr


def test_kill_9_leaves_the_relay_off_and_systemd_starts_beerpi_again(systemd, service):
    # Given the service heating (the simulated beer is far below its target)
    poll(lambda: heater_level(systemd) == 1, timeout=30)
    first = systemd.show("beerpi", "MainPID")
    restarts = int(systemd.show("beerpi", "NRestarts"))
    # When its main process is killed with SIGKILL, which it cannot catch
    assert systemd.run("kill", "-9", first).returncode == 0
    # Then the unit's release switches the relay off, and systemd starts BeerPi again
    poll(lambda: heater_level(systemd) == 0, timeout=20)
    poll(lambda: int(systemd.show("beerpi", "NRestarts")) == restarts + 1
         and systemd.show("beerpi", "MainPID") not in ("0", first)
         and systemd.show("beerpi", "ActiveState") == "active", timeout=30)
    assert (poll(lambda: healthz(service), timeout=30))["ok"]


def test_a_hung_server_is_killed_by_the_watchdog_its_relay_released_and_restarted(systemd, service):
    poll(lambda: heater_level(systemd) == 1, timeout=30)
    hung = systemd.show("beerpi", "MainPID")
    restarts = int(systemd.show("beerpi", "NRestarts"))
    # When the server stops making progress (frozen: no sample, no watchdog ping)
    assert systemd.run("kill", f"-{signal.SIGSTOP.value}", hung).returncode == 0
    # Then within WatchdogSec (30 s) systemd kills it, the relay is released and it restarts
    poll(lambda: heater_level(systemd) == 0, timeout=60, every=0.5)
    poll(lambda: int(systemd.show("beerpi", "NRestarts")) == restarts + 1
         and systemd.show("beerpi", "ActiveState") == "active", timeout=30)
    journal = systemd.run("journalctl", "--no-pager", "-u", "beerpi").stdout
    assert "Watchdog timeout" in journal


def test_uninstall_stops_beerpi_removes_the_unit_and_keeps_the_data(systemd, service):
    removed = systemd.run("make", "uninstall", timeout=120)
    assert removed.returncode == 0, removed.stderr
    assert systemd.run("systemctl", "cat", "beerpi").returncode != 0  # no such unit any more
    assert healthz(service) is None
    assert heater_level(systemd) == 0
    assert systemd.run("test", "-s", "/var/lib/beerpi/token").returncode == 0  # the data stays
