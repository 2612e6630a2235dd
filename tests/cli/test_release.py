"""``beerpi release``: every configured relay OFF without a server, as after a ``kill -9``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.fake_gpio import FAKES, fake_gpio_module, gpio_calls
from tests.support.process import ROOT, WAIT, Server
from tests.support.waiting import poll

TWO_CHAMBERS = """
[chamber.ale]
name = "Ale"
beer_probe = "28-0000000000a1"
heater = { pin = 17, active_low = true }
cooler = { pin = 27 }

[chamber.lager]
name = "Lager"
beer_probe = "28-0000000000a2"
heater = { pin = 22 }
cooler = { pin = 5, active_low = true }
"""


def beerpi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "beerpi", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=WAIT)


@pytest.fixture
def gpio_log(tmp_path, monkeypatch) -> Path:
    log = tmp_path / "gpio.log"
    monkeypatch.setenv("PYTHONPATH", f"{FAKES}:{ROOT}")
    monkeypatch.setenv("BEERPI_FAKE_GPIO_LOG", str(log))
    return log


def test_release_drives_every_output_of_a_configuration_off(tmp_path, gpio_log):
    config = tmp_path / "chambers.toml"
    config.write_text(TWO_CHAMBERS)
    # When the release command runs with the configuration file
    result = beerpi("release", "--config", str(config), "--hardware", "pi")
    # Then every pin is set up as an output at its OFF level, active-high and active-low alike,
    # and left driven there once the command has ended
    assert result.returncode == 0, result.stdout + result.stderr
    calls = gpio_calls(gpio_log)
    fake = fake_gpio_module()
    for pin, off in ((17, 1), (27, 0), (22, 0), (5, 1)):
        assert f"setup {pin} 0 {off}" in calls
        assert fake.level_after(calls, pin) == off
    assert not any(line.startswith("cleanup") for line in calls)
    assert "GPIO 5: Lager's cooler OFF (HIGH, active-low)" in result.stdout


def heating_on_gpio17(tmp_path, gpio_log) -> Server:
    """A server heating through an active-low relay on GPIO 17 (its relay on)."""
    server = Server("--port", "0", "--probes", "sim", "--heater", "gpio", "--heater-pin", "17", "--active-low",
                    "--min-off", "0", "--interval", "0.05", "--db", f"sqlite:///{tmp_path}/b.sqlite3")
    try:
        server.wait_listening()
        poll(lambda: "output 17 0" in gpio_calls(gpio_log))  # LOW: on
    except BaseException:
        server.kill()
        raise
    return server


def test_after_a_kill_9_with_the_heater_on_release_switches_it_off(tmp_path, gpio_log):
    # Given a server heating through an active-low relay on GPIO 17
    server = heating_on_gpio17(tmp_path, gpio_log)
    # When it is killed with SIGKILL, which no handler can catch
    server.kill()
    fake = fake_gpio_module()
    assert fake.level_after(gpio_calls(gpio_log), 17) == 0  # the relay is still on
    # Then the release command, given the server's own options, switches it off
    result = beerpi("release", "--heater", "gpio", "--heater-pin", "17", "--active-low")
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.level_after(gpio_calls(gpio_log), 17) == 1


def test_release_leaves_a_relay_alone_while_a_running_beerpi_drives_it(tmp_path, gpio_log):
    # Given a server heating through GPIO 17, and a second relay nobody drives on GPIO 27
    server = heating_on_gpio17(tmp_path, gpio_log)
    try:
        before = len(gpio_calls(gpio_log))
        # When someone runs the release by hand with the server's pin and another
        result = beerpi("release", "--heater", "gpio", "--heater-pin", "17", "--active-low",
                        "--cooler-pin", "27")
        # Then it refuses to drive the running server's relay, says who holds it and how to stop it,
        # and still switches the free relay off
        assert result.returncode == 1, result.stdout + result.stderr
        assert f"PID {server.process.pid}" in result.stdout and "GPIO 17" in result.stdout
        assert "stop it first" in result.stdout
        released = gpio_calls(gpio_log)[before:]
        assert not any(line.startswith(("setup 17", "output 17 1")) for line in released), released
        assert "setup 27 0 0" in released
        assert server.process.poll() is None
    finally:
        server.kill()


def test_release_of_simulated_outputs_touches_nothing(tmp_path, gpio_log):
    result = beerpi("release", "--hardware", "sim")
    assert result.returncode == 0 and "simulated" in result.stdout
    assert gpio_calls(gpio_log) == []


def test_release_without_gpio_on_real_hardware_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # no RPi.GPIO, not even the fake
    result = beerpi("release", "--hardware", "pi", "--heater-pin", "17")
    assert result.returncode == 1
    assert "GPIO 17" in result.stdout and "cut the relays' power by hand" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_control_setting_the_server_refuses_does_not_stop_the_release(tmp_path, gpio_log, monkeypatch):
    # Given a configuration edited to a target the server refuses (it stops, and systemd runs
    # the release after it with the same options)
    monkeypatch.setenv("BEERPI_TARGET", "31")
    monkeypatch.setenv("BEERPI_MIN_ON", "600")
    monkeypatch.setenv("BEERPI_MAX_ON", "5")
    refused = beerpi("serve", "--heater", "gpio", "--heater-pin", "17")
    assert refused.returncode == 2 and "--target 31 must be below" in refused.stderr
    # When the release runs with those options, then the relay is still switched off
    result = beerpi("release", "--heater", "gpio", "--heater-pin", "17")
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake_gpio_module().level_after(gpio_calls(gpio_log), 17) == 0


def test_a_setting_that_does_not_parse_does_not_stop_the_release_of_the_pins_it_can_read(tmp_path, gpio_log,
                                                                                        monkeypatch):
    # Given the service's environment with a typo in a setting that is not about the outputs
    monkeypatch.setenv("BEERPI_HEATER", "gpio")
    monkeypatch.setenv("BEERPI_HEATER_PIN", "17")
    monkeypatch.setenv("BEERPI_ACTIVE_LOW", "true")
    monkeypatch.setenv("BEERPI_TARGET", "18,5")
    # When the release runs as the unit runs it (no arguments), then the relay is switched off
    result = beerpi("release")
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake_gpio_module().level_after(gpio_calls(gpio_log), 17) == 1  # HIGH: an active-low relay off
    assert "BEERPI_TARGET" in result.stderr and "GPIO 17" in result.stdout
