"""Running out of file descriptors for real, briefly, in the test process."""

from __future__ import annotations

import errno
import os
import resource
from collections.abc import Iterator
from contextlib import contextmanager

HEADROOM = 64  # descriptors above the highest open one: a small, quick set to use up


@contextmanager
def no_free_descriptors() -> Iterator[None]:
    """Use up every descriptor the soft limit allows, then give them back and restore the limit.

    Only for tests with no other thread at work: anything opening a file meanwhile fails.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    highest = max(int(fd) for fd in os.listdir("/proc/self/fd"))
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, highest + HEADROOM), hard))
    held: list[int] = []
    try:
        for _ in range(highest + HEADROOM):  # bounded: the limit is at most this
            try:
                held.append(os.open(os.devnull, os.O_RDONLY))
            except OSError as exc:
                assert exc.errno == errno.EMFILE, exc
                break
        else:
            raise AssertionError("the open-file limit was not reached")
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
