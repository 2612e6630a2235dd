"""DS18B20 probes read by the real w1thermsensor library from a fake sysfs tree.

No mocks: ``w1_tree`` writes ``w1_slave`` files exactly as the kernel does, and
``beerpi.hardware.ds18b20.W1Probe`` reads them through w1thermsensor.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from beerpi.base.errors import ProbeError
from beerpi.hardware.ds18b20 import W1Probe, bulk_trigger, discover, w1_probes
from tests.support.w1tree import scratchpad

PROBE = "28-000000000001"
OTHER = "28-000000000002"
REPO = Path(__file__).resolve().parent.parent.parent
WAIT = 30.0  # seconds: bound on the subprocess


def probe_error(probe: W1Probe) -> ProbeError:
    with pytest.raises(ProbeError) as caught:
        probe.read()
    return caught.value


def assert_says_what_to_check(error: ProbeError, probe_id: str = PROBE) -> None:
    message = str(error)
    assert probe_id in message
    assert "check" in message
    assert any(word in message for word in ("wiring", "power", "pull-up")), message


# --- good readings -------------------------------------------------------------------------

@pytest.mark.parametrize("temperature", [
    pytest.param(18.5, id="typical-wort"),
    pytest.param(-3.25, id="negative"),
    pytest.param(0.0625, id="one-step-above-zero"),
    pytest.param(-0.0625, id="one-step-below-zero"),
    pytest.param(0.0, id="zero"),
    pytest.param(20.4375, id="fractional-steps"),
    pytest.param(-55.0, id="lowest-in-range"),
    pytest.param(125.0, id="highest-in-range"),
])
def test_reads_the_temperature_the_probe_reports(w1_tree, temperature):
    # Given a DS18B20 on the bus reporting a temperature
    w1_tree.set(PROBE, temperature)
    probe = W1Probe(PROBE, "wort", w1_tree.root)
    # When it is read
    value = probe.read()
    # Then the value is exact to the sensor's 1/16 °C resolution
    assert value == temperature
    assert isinstance(value, float)


def test_follows_a_changing_temperature(w1_tree):
    # Given a probe that has been read once
    w1_tree.set(PROBE, 18.5)
    probe = W1Probe(PROBE, None, w1_tree.root)
    assert probe.read() == 18.5
    # When the kernel reports a new value
    w1_tree.set(PROBE, 19.0625)
    # Then the next read returns it
    assert probe.read() == 19.0625


def test_name_defaults_to_the_id(w1_tree):
    assert W1Probe(PROBE, None, w1_tree.root).name == PROBE
    assert W1Probe(PROBE, "wort", w1_tree.root).name == "wort"


# --- faults --------------------------------------------------------------------------------

def test_crc_failure_is_probe_crc(w1_tree):
    # Given the kernel reports a CRC failure
    w1_tree.crc_failure(PROBE, 18.5)
    # When the probe is read
    error = probe_error(W1Probe(PROBE, None, w1_tree.root))
    # Then the fault is a CRC fault that points at the wiring and pull-up
    assert error.code == "probe_crc"
    assert "pull-up" in str(error)
    assert_says_what_to_check(error)


def test_empty_file_is_probe_crc(w1_tree):
    w1_tree.empty(PROBE)
    error = probe_error(W1Probe(PROBE, None, w1_tree.root))
    assert error.code == "probe_crc"
    assert_says_what_to_check(error)


def test_all_zero_scratchpad_is_probe_crc(w1_tree):
    # Given a probe that answers with nothing but zeros (as a shorted data line does)
    zeros = "00 00 00 00 00 00 00 00 00"
    w1_tree.write_raw(PROBE, f"{zeros} : crc=00 YES\n{zeros} t=0\n")
    # Then it is not taken as 0 °C
    error = probe_error(W1Probe(PROBE, None, w1_tree.root))
    assert error.code == "probe_crc"


def test_power_on_value_is_probe_reset(w1_tree):
    # Given a probe that reports its 85 °C power-on value
    w1_tree.reset_value(PROBE)
    # When it is read
    error = probe_error(W1Probe(PROBE, None, w1_tree.root))
    # Then it is a reset fault that points at the power supply, not a temperature
    assert error.code == "probe_reset"
    assert "power" in str(error)
    assert_says_what_to_check(error)


def test_missing_probe_is_probe_missing(w1_tree):
    # Given a bus without the probe
    w1_tree.set(OTHER, 20.0)
    # When it is read
    error = probe_error(W1Probe(PROBE, None, w1_tree.root))
    # Then the fault says the probe is missing and what to check
    assert error.code == "probe_missing"
    assert_says_what_to_check(error)


def test_missing_w1_directory_is_probe_missing(tmp_path):
    # Given no 1-wire devices directory at all (w1-gpio overlay not loaded)
    probe = W1Probe(PROBE, None, tmp_path / "no" / "such" / "devices")
    # When read
    error = probe_error(probe)
    # Then it is a missing probe, not a crash
    assert error.code == "probe_missing"
    assert_says_what_to_check(error)


@pytest.mark.parametrize("text", [
    pytest.param(f"{scratchpad(18.5)} : crc=1c YES\n", id="yes-but-no-second-line"),
    pytest.param(f"{scratchpad(18.5)} : crc=1c YES\nzz qq 4b 46 7f ff 0c 10 1c t=18500\n",
                 id="non-hex-bytes"),
    pytest.param(f"{scratchpad(18.5)} : crc=1c YES\n01\n", id="truncated-second-line"),
    pytest.param(f"{scratchpad(18.5)} : crc=1c YES\n\n", id="blank-second-line"),
])
def test_unparseable_data_is_probe_garbled(w1_tree, text):
    # Given a w1_slave file the CRC line accepts but whose data cannot be parsed
    w1_tree.write_raw(PROBE, text)
    # When read
    error = probe_error(W1Probe(PROBE, None, w1_tree.root))
    # Then the fault is "garbled" and points at the wiring
    assert error.code == "probe_garbled"
    assert_says_what_to_check(error)


def test_undecodable_bytes_are_probe_garbled(w1_tree):
    # Given a w1_slave file with bytes that are not text at all
    w1_tree.set(PROBE, 18.5)
    (w1_tree.root / PROBE / "w1_slave").write_bytes(b"\xff\xfe\x00\x9c garbage YES\n\xff\n")
    # When read
    error = probe_error(W1Probe(PROBE, None, w1_tree.root))
    # Then it is garbled data, not an unhandled UnicodeDecodeError
    assert error.code == "probe_garbled"
    assert_says_what_to_check(error)


def test_a_good_read_after_a_fault(w1_tree):
    # Given a probe whose last read failed its CRC
    probe = W1Probe(PROBE, None, w1_tree.root)
    w1_tree.crc_failure(PROBE)
    assert probe_error(probe).code == "probe_crc"
    # When the data is good again
    w1_tree.set(PROBE, 17.75)
    # Then the same object reads it
    assert probe.read() == 17.75


# --- probes that come and go ---------------------------------------------------------------

def test_probe_that_vanishes_and_returns_is_read_again(w1_tree):
    # Given a probe that has been read
    w1_tree.set(PROBE, 18.5)
    probe = W1Probe(PROBE, "wort", w1_tree.root)
    assert probe.read() == 18.5
    # When it drops off the bus
    w1_tree.remove(PROBE)
    # Then reads fail as "missing"
    assert probe_error(probe).code == "probe_missing"
    assert probe_error(probe).code == "probe_missing"
    # And when it comes back, the same object reads it again
    w1_tree.set(PROBE, 19.25)
    assert probe.read() == 19.25


def test_probe_absent_at_construction_is_read_once_it_appears(w1_tree):
    # Given a probe object made before the probe is on the bus
    probe = W1Probe(PROBE, "wort", w1_tree.root)
    assert probe_error(probe).code == "probe_missing"
    # When the probe appears
    w1_tree.set(PROBE, -1.5)
    # Then it is read without making a new object
    assert probe.read() == -1.5


def test_w1_directory_that_appears_later(tmp_path):
    # Given a probe made before the 1-wire bus exists at all
    from tests.support.w1tree import W1Tree
    root = tmp_path / "w1" / "devices"
    probe = W1Probe(PROBE, None, root)
    assert probe_error(probe).code == "probe_missing"
    # When the bus and the probe appear
    W1Tree(root).set(PROBE, 21.0)
    # Then it is read
    assert probe.read() == 21.0


def test_two_probes_on_different_trees_do_not_interfere(tmp_path):
    from tests.support.w1tree import W1Tree
    first, second = W1Tree(tmp_path / "a"), W1Tree(tmp_path / "b")
    first.set(PROBE, 10.0)
    second.set(PROBE, 30.0)
    assert W1Probe(PROBE, None, first.root).read() == 10.0
    assert W1Probe(PROBE, None, second.root).read() == 30.0


# --- discovery -----------------------------------------------------------------------------

def test_discover_lists_only_ds18b20_sorted(w1_tree):
    # Given a bus with two DS18B20s, a DS18S20 (family 10) and the bus master entry
    w1_tree.set(OTHER, 20.0)
    w1_tree.set(PROBE, 20.0)
    w1_tree.set("10-000000000003", 20.0)
    (w1_tree.root / "w1_bus_master1").mkdir()
    # When discovered
    # Then only the DS18B20s are listed, sorted
    assert discover(w1_tree.root) == [PROBE, OTHER]


def test_discover_empty_bus(w1_tree):
    assert discover(w1_tree.root) == []


def test_discover_missing_directory(tmp_path):
    assert discover(tmp_path / "missing") == []


def test_w1_probes_names_found_probes_and_adds_wanted_absent_ones(w1_tree, caplog):
    # Given two probes on the bus, one named in the mapping
    w1_tree.set(OTHER, 12.0)
    w1_tree.set(PROBE, 18.5)
    absent = "28-0000000000ff"
    # When probes are made, also asking for one not on the bus yet and one already there
    probes = w1_probes(w1_tree.root, {PROBE: "wort", absent: "ambient"}, wanted=[absent, OTHER])
    # Then every found probe plus the absent wanted one is listed once, named from the mapping
    assert [(p.id, p.name) for p in probes] == [(PROBE, "wort"), (OTHER, OTHER), (absent, "ambient")]
    assert [p.read() for p in probes[:2]] == [18.5, 12.0]
    # And the absent one is reported missing, and warned about, until it appears
    assert probe_error(probes[2]).code == "probe_missing"
    assert absent in caplog.text
    w1_tree.set(absent, 5.0)
    assert probes[2].read() == 5.0


def test_w1_probes_on_a_missing_bus_keeps_the_wanted_ids(tmp_path):
    probes = w1_probes(tmp_path / "missing", {}, wanted=[PROBE])
    assert [p.id for p in probes] == [PROBE]
    assert probe_error(probes[0]).code == "probe_missing"


def test_w1_probes_without_probes_or_wishes(w1_tree):
    assert w1_probes(w1_tree.root, {}) == []


# --- bulk conversion -----------------------------------------------------------------------

def test_bulk_trigger_writes_trigger_to_every_bus_master(w1_tree):
    # Given two bus masters whose driver supports bulk conversion
    w1_tree.set(PROBE, 20.0)
    files = []
    for master in ("w1_bus_master1", "w1_bus_master2"):
        (w1_tree.root / master).mkdir()
        files.append(w1_tree.root / master / "therm_bulk_read")
        files[-1].write_text("0\n")
    # When the trigger is made and called
    trigger = bulk_trigger(w1_tree.root)
    assert trigger is not None
    trigger()
    # Then every master was told to start its conversions
    assert [path.read_text() for path in files] == ["trigger\n", "trigger\n"]


def test_no_bulk_trigger_without_driver_support(w1_tree, tmp_path):
    # Given a bus master without therm_bulk_read (an older kernel), or no bus at all
    w1_tree.set(PROBE, 20.0)
    (w1_tree.root / "w1_bus_master1").mkdir()
    # Then there is no trigger
    assert bulk_trigger(w1_tree.root) is None
    assert bulk_trigger(tmp_path / "missing") is None


def test_bulk_trigger_looks_up_the_masters_at_each_call(w1_tree):
    master = w1_tree.root / "w1_bus_master1"
    master.mkdir()
    (master / "therm_bulk_read").write_text("0\n")
    trigger = bulk_trigger(w1_tree.root)
    (master / "therm_bulk_read").unlink()
    master.rmdir()
    trigger()  # no master left: nothing to trigger, no error
    master.mkdir()
    (master / "therm_bulk_read").mkdir()  # a file that cannot be written
    with pytest.raises(OSError):
        trigger()


# --- no kernel modules ---------------------------------------------------------------------

def test_import_and_probes_never_load_kernel_modules(tmp_path):
    # Given a fresh interpreter with a clean environment, where any modprobe call is recorded
    # (w1thermsensor runs modprobe on import unless told not to, then raises
    # KernelModuleLoadError when /sys/bus/w1/devices does not appear)
    script = textwrap.dedent(f"""
        import os, sys
        from pathlib import Path
        commands = []
        os.system = lambda command: commands.append(command) or 1
        import beerpi.hardware.ds18b20 as w
        assert "w1thermsensor" not in sys.modules, "w1thermsensor imported eagerly"
        probe = w.W1Probe("28-000000000001", None, Path({str(tmp_path)!r}))
        try:
            probe.read()
        except w.ProbeError as exc:
            assert exc.code == "probe_missing", exc.code
        w.w1_probes(Path({str(tmp_path)!r}), {{}}, ["28-000000000002"])
        assert not commands, commands
        print("ok")
    """)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO)}
    # When it imports beerpi.hardware.ds18b20 and makes and reads probes
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=WAIT)
    # Then nothing tried to load kernel modules
    assert "KernelModuleLoadError" not in result.stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# --- no free file descriptors --------------------------------------------------------------

def test_a_read_without_free_file_descriptors_is_a_server_fault_not_wiring(w1_tree):
    # Given a probe that reads fine
    from tests.support.fdlimit import no_free_descriptors
    w1_tree.set(PROBE, 18.5)
    probe = W1Probe(PROBE, "wort", w1_tree.root)
    assert probe.read() == 18.5
    # When the server has used up its open files (EMFILE) and the probe is read
    with no_free_descriptors():
        error = probe_error(probe)
    # Then the fault names the server's state, not the wiring
    assert error.code == "too_many_open_files"
    assert "too many open files" in str(error) and "check the wiring" not in str(error)
    # And the probe reads again once descriptors are free
    assert probe.read() == 18.5
