"""Telling a Raspberry Pi from a laptop: auto may simulate only where there is no real hardware."""

from __future__ import annotations

from pathlib import Path

from beerpi.app.rig_plan import raspberry_pi_signs


def machine(tmp_path: Path, model: bytes | None = None, chip: bool = False, bus_master: bool = False):
    """(w1 dir, device-tree model file, /dev) of a made-up machine."""
    w1, dev = tmp_path / "w1", tmp_path / "dev"
    w1.mkdir()
    dev.mkdir()
    model_file = tmp_path / "model"
    if model is not None:
        model_file.write_bytes(model)
    if chip:
        (dev / "gpiochip0").touch()
    if bus_master:
        (w1 / "w1_bus_master1").mkdir()
    return w1, model_file, dev


def test_a_laptop_shows_no_sign_of_a_pi(tmp_path):
    assert raspberry_pi_signs(*machine(tmp_path)) is None


def test_the_device_tree_model_names_the_pi(tmp_path):
    signs = raspberry_pi_signs(*machine(tmp_path, model=b"Raspberry Pi 4 Model B Rev 1.4\0"))
    assert signs == "Raspberry Pi 4 Model B Rev 1.4"


def test_another_board_with_a_gpio_chip_counts_as_real_hardware(tmp_path):
    signs = raspberry_pi_signs(*machine(tmp_path, model=b"Some Other Board\0", chip=True))
    assert signs is not None and "gpiochip0" in signs


def test_a_1_wire_bus_master_counts_as_real_hardware(tmp_path):
    signs = raspberry_pi_signs(*machine(tmp_path, bus_master=True))
    assert signs is not None and "w1_bus_master1" in signs
