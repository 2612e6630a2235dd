"""The last broadcast frames, numbered, so that an event stream that reconnects resumes where it was."""

from __future__ import annotations

import re
import secrets
from collections import deque

RECENT_FRAMES = 1000  # broadcasts kept for resuming: a few minutes of readings at the default interval
EVENT_ID = re.compile(r"([0-9a-f]+)-([0-9]{1,18})")


class RecentFrames:
    """The last broadcast frames, numbered from 1 in this run, for streams that resume."""

    def __init__(self, size: int = RECENT_FRAMES) -> None:
        self.run = secrets.token_hex(4)  # ids from another run (before a restart) never match
        self.sequence = 0  # the number of the last frame added
        self.frames: deque[tuple[int, str]] = deque(maxlen=size)

    def add(self, frame: str) -> int:
        self.sequence += 1
        self.frames.append((self.sequence, frame))
        return self.sequence

    def event_id(self, sequence: int) -> str:
        return f"{self.run}-{sequence}"

    def after(self, last_event_id: str | None) -> list[tuple[int, str]] | None:
        """The frames after ``last_event_id``; None if some are gone (or it is not this run's): start afresh."""
        found = EVENT_ID.fullmatch((last_event_id or "").strip())
        if found is None or found.group(1) != self.run:
            return None
        last = int(found.group(2))
        oldest = self.frames[0][0] if self.frames else self.sequence + 1
        if not oldest - 1 <= last <= self.sequence:
            return None
        return [(sequence, frame) for sequence, frame in self.frames if sequence > last]
