"""A real systemd, booted as PID 1 of its own PID and mount namespaces, for testing the unit.

Test machines often run in containers whose PID 1 is not systemd. As root, systemd can still
run as the init of a new PID namespace. Everything it and the tests inside it write under
/etc, /opt, /var and /usr/local lands in overlay layers in a scratch directory, so the machine
is left as it was (the network namespace is shared: servers inside listen on loopback ports
the test chooses). /tmp and /run are fresh tmpfs inside (systemd's boot clears /tmp), and the
checkout is bound at ``SOURCE`` inside, wherever it lives outside.

The cgroup tree is not namespaced: two such systemds at once (two test runs on one machine)
would manage the same cgroups and neither would finish booting, so one waits for the other
(``LOCK``).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.support.waiting import poll

SYSTEMD = Path("/lib/systemd/systemd")
OVERLAID = ("etc", "opt", "var", "usr/local")
SOURCE = "/opt/beerpi-test-src"  # the checkout, inside the namespace
CONTAINER = "beerpi-test"  # systemd's $container, which marks our namespaces' init
LOCK = Path("/run/lock/beerpi-test-systemd.lock")  # held while a namespace runs
LOCK_WAIT = 600.0  # s: another test run's namespace lives about a minute and a half


def unavailable() -> str | None:
    """Why a systemd namespace cannot be started here, or None when it can."""
    if os.geteuid() != 0:
        return "booting systemd in a namespace needs root"
    if not SYSTEMD.exists():
        return "systemd is not installed"
    for tool in ("unshare", "nsenter"):
        if shutil.which(tool) is None:
            return f"{tool} (util-linux) is not installed"
    if "overlay" not in Path("/proc/filesystems").read_text():
        return "the kernel has no overlay filesystem"
    return None


class SystemdNamespace:
    """systemd running as PID 1 in new namespaces; ``run`` executes a command beside it."""

    def __init__(self, scratch: Path, checkout: Path) -> None:
        self.lock = take_lock()
        mounts = []
        for name in OVERLAID:
            upper, work = scratch / f"{name.replace('/', '-')}-upper", scratch / f"{name.replace('/', '-')}-work"
            upper.mkdir(parents=True)
            work.mkdir(parents=True)
            mounts.append(f"mount -t overlay overlay -o lowerdir=/{name},upperdir={upper},workdir={work} /{name}")
        boot = " && ".join([*mounts, f"mkdir -p {SOURCE}", f"mount --bind {checkout} {SOURCE}",
                            "mount -t tmpfs tmpfs /tmp", "mount -t tmpfs tmpfs /run",
                            f"exec env container={CONTAINER} {SYSTEMD} --system --unit=multi-user.target"])
        self.console = (scratch / "console.log").open("wb")
        self.unshare = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount", "--propagation", "private", "--mount-proc", "sh", "-c", boot],
            stdout=self.console, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            self.pid = poll(self._init_pid, timeout=20)
            try:
                poll(lambda: self.run("systemctl", "is-system-running").stdout.strip() in ("running", "degraded"),
                     timeout=90, every=0.2)
            except AssertionError:
                raise AssertionError("systemd did not finish booting: " + self.boot_report()) from None
        except BaseException:
            self.close()
            raise

    def _init_pid(self) -> int | None:
        """The namespace's PID 1 as this namespace sees it: the child unshare forked."""
        if self.unshare.poll() is not None:
            raise AssertionError(f"systemd did not boot: {Path(self.console.name).read_text()[-2000:]}")
        children = Path(f"/proc/{self.unshare.pid}/task/{self.unshare.pid}/children").read_text().split()
        return int(children[0]) if children else None

    def boot_report(self) -> str:
        """What systemd says it is doing: its state, its jobs and the tail of its console."""
        state = self.run("systemctl", "is-system-running").stdout.strip()
        jobs = self.run("systemctl", "list-jobs", "--no-pager").stdout
        return f"{state}\n{jobs}\n{Path(self.console.name).read_text(errors='replace')[-2000:]}"

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        in_source = ["sh", "-c", 'cd "$0" && exec "$@"', SOURCE]  # nsenter's --wd resolves outside
        return subprocess.run(["nsenter", "-t", str(self.pid), "-m", "-p", *in_source, *args],
                              capture_output=True, text=True, timeout=timeout)

    def show(self, unit: str, prop: str) -> str:
        return self.run("systemctl", "show", "-p", prop, "--value", unit).stdout.strip()

    def close(self) -> None:
        """Kill the namespace's init, and with it everything that runs in the namespace."""
        try:
            if getattr(self, "pid", None):
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.unshare.kill()
        self.unshare.wait(timeout=30)
        self.console.close()
        self.lock.close()  # releases it


def take_lock():
    """The machine-wide lock on booting a systemd namespace; waits at most LOCK_WAIT seconds."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    handle = LOCK.open("w")
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            kill_orphans()
            return handle
        except BlockingIOError:
            if time.monotonic() > deadline:
                handle.close()
                raise AssertionError(f"another test run kept {LOCK} for {LOCK_WAIT:.0f} s") from None
            time.sleep(0.5)  # polling a lock with a deadline


def kill_orphans() -> None:
    """Kill the init of a namespace left by a test run that was itself killed (with the lock held,
    no live run owns one): beside it, a new systemd would not finish booting."""
    marker = f"container={CONTAINER}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile, or not ours to read
