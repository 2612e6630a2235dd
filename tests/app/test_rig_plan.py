"""A relay on the 1-wire bus's pin is refused, before any pin is set up, unless allowed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from beerpi.app.rig_plan import plan_rig
from beerpi.base.errors import ConfigError
from beerpi.config import Config
from beerpi.hardware.boot_pins import w1_bus_pin
from tests.support.fake_gpio import FAKES
from tests.support.process import Server, run
from tests.support.w1tree import W1Tree

WORT = "28-0000000000a1"


@pytest.fixture
def pi(tmp_path, monkeypatch) -> tuple[W1Tree, Path]:
    """A fake 1-wire bus with a probe in the wort, and the recording GPIO fake."""
    log = tmp_path / "gpio.log"
    monkeypatch.setenv("PYTHONPATH", str(FAKES))
    monkeypatch.setenv("BEERPI_FAKE_GPIO_LOG", str(log))
    tree = W1Tree(tmp_path / "w1")
    tree.set(WORT, 18.0)
    return tree, log


def pi_args(tree: W1Tree, tmp_path: Path, *more: str) -> list[str]:
    return ["--port", "0", "--host", "127.0.0.1", "--hardware", "pi", "--w1-dir", str(tree.root),
            "--db", f"sqlite:///{tmp_path}/b.sqlite3", *more]


@pytest.mark.parametrize("more", [("--heater-pin", "4"), ("--cooler-pin", "4"),
                                  ("--heater-pin", "5", "--w1-pin", "5")], ids=["heater", "cooler", "w1-pin"])
def test_a_relay_on_the_1wire_pin_is_refused_before_anything_is_switched(tmp_path, pi, more):
    tree, log = pi
    result = run(*pi_args(tree, tmp_path, *more))
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert "1-wire" in error and f"GPIO {more[1]}" in error and "--allow-1wire-pin" in error, result.stderr
    assert "Traceback" not in result.stderr
    assert not log.exists()  # no pin set up, none switched
    assert not (tmp_path / "b.sqlite3").exists()


def test_a_relay_on_the_1wire_pin_runs_when_allowed(tmp_path, pi, monkeypatch):
    tree, log = pi
    monkeypatch.setenv("BEERPI_ALLOW_1WIRE_PIN", "1")
    server = Server("--port", "0", *pi_args(tree, tmp_path, "--heater-pin", "4")[4:], token=None)
    try:
        server.wait_listening()
        assert "setup 4 0 0" in log.read_text().splitlines()
    finally:
        assert server.stop() == 0, server.log()


def chamber_file(tmp_path: Path, heater: str) -> Path:
    path = tmp_path / "rig.toml"
    path.write_text(f'[chamber.ale]\nbeer_probe = "{WORT}"\n[chamber.ale.heater]\n{heater}\n')
    return path


def test_a_chamber_file_with_a_relay_on_the_1wire_pin_is_refused_unless_its_output_allows_it(tmp_path, pi):
    tree, _ = pi
    config = Config(hardware="pi", w1_dir=str(tree.root), config=str(chamber_file(tmp_path, "pin = 4")))
    with pytest.raises(ConfigError, match=r'chamber "ale".*GPIO 4.*allow_1wire_pin = true in \[chamber.ale.heater\]'):
        plan_rig(config)
    allowed = Config(hardware="pi", w1_dir=str(tree.root),
                     config=str(chamber_file(tmp_path, "pin = 4\nallow_1wire_pin = true")))
    assert plan_rig(allowed).pins == (4,)


def test_simulated_outputs_have_no_pin_to_refuse(tmp_path):
    assert plan_rig(Config(hardware="sim", heater_pin=4)).pins == ()


@pytest.mark.parametrize("text, pin", [
    ("dtoverlay=w1-gpio\n", 4),
    ("dtparam=audio=on\ndtoverlay=w1-gpio,gpiopin=17\n", 17),
    ("#dtoverlay=w1-gpio,gpiopin=17\ndtoverlay=w1-gpio, gpiopin=6  # probes\n", 6),
    ("", 4),
])
def test_the_1wire_pin_is_read_from_config_txt(tmp_path, text, pin):
    (tmp_path / "config.txt").write_text(text)
    assert w1_bus_pin([tmp_path / "missing.txt", tmp_path / "config.txt"]) == pin
    assert os.path.exists(tmp_path / "config.txt")
