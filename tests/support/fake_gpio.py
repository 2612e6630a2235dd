"""The recording fake of RPi.GPIO as the tests use it: where it lives, its call log, and what
the log says a pin was left at."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.process import ROOT

FAKES = ROOT / "tests" / "support" / "fakes"  # put on PYTHONPATH, it is the RPi package a server imports


def fake_gpio_module() -> ModuleType:
    """The recording fake itself (its knowledge of the pins' default pulls), loaded from its file."""
    spec = importlib.util.spec_from_file_location("fake_rpi_gpio", FAKES / "RPi" / "GPIO.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gpio_calls(log: Path) -> list[str]:
    """The calls every server of the test made, in order (``setup 22 0 1``, ``output 22 1``, …)."""
    return log.read_text().splitlines() if log.exists() else []


def level_after(calls: list[str], pin: int) -> int:
    """The level ``pin`` was left at by ``calls``."""
    return fake_gpio_module().level_after(calls, pin)


@pytest.fixture
def gpio_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The recording GPIO fake for every server this test starts; returns its call log."""
    log = tmp_path / "gpio.log"
    monkeypatch.setenv("PYTHONPATH", str(FAKES))
    monkeypatch.setenv("BEERPI_FAKE_GPIO_LOG", str(log))
    return log
