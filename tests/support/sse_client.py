"""A raw server-sent-events client for the tests: one socket, HTTP/1.1 chunked, events read with bounded waits."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

WAIT = 10.0


@dataclass
class ServerEvent:
    id: str | None
    data: str

    @property
    def frame(self) -> dict[str, Any]:
        return json.loads(self.data)

    @property
    def sequence(self) -> int:
        assert self.id is not None
        return int(self.id.rpartition("-")[2])


class EventStream:
    """``GET /events`` read as a browser's EventSource would, without reconnecting."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int,
                 headers: dict[str, str]) -> None:
        self.reader = reader
        self.writer = writer
        self.status = status
        self.headers = headers
        self.comments: list[str] = []
        self.retry: int | None = None
        self._text = ""  # decoded body not yet split into lines

    @classmethod
    async def open(cls, port: int, token: str | None = None, last_event_id: str | None = None,
                   receive_buffer: int | None = None, host: str | None = None) -> EventStream:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:  # before connecting, so the window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), WAIT)
        reader, writer = await asyncio.open_connection(sock=sock, limit=8 * 1024 * 1024)
        lines = ["GET /events HTTP/1.1", f"Host: {host or f'127.0.0.1:{port}'}", "Accept: text/event-stream"]
        if token is not None:
            lines.append(f"Authorization: Bearer {token}")
        if last_event_id is not None:
            lines.append(f"Last-Event-ID: {last_event_id}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        status_line, *header_lines = head.decode().split("\r\n")
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        return cls(reader, writer, int(status_line.split()[1]), headers)

    async def _chunk(self) -> str:
        size_line = await asyncio.wait_for(self.reader.readuntil(b"\r\n"), WAIT)
        size = int(size_line.strip(), 16)
        if size == 0:
            raise EOFError("the server ended the stream")
        data = await asyncio.wait_for(self.reader.readexactly(size + 2), WAIT)
        return data[:-2].decode()

    async def body(self) -> str:
        """The whole body of a short, non-stream answer (an error)."""
        length = int(self.headers.get("content-length", "0"))
        return (await asyncio.wait_for(self.reader.readexactly(length), WAIT)).decode()

    async def next(self) -> ServerEvent:
        """The next event with data; comments and ``retry`` are noted on the way."""
        event_id: str | None = None
        data: list[str] = []
        while True:
            line = await self._line()
            if line == "":
                if data:
                    return ServerEvent(event_id, "\n".join(data))
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                event_id = value
            elif name == "data":
                data.append(value)
            elif name == "retry":
                self.retry = int(value)

    async def _line(self) -> str:
        while "\n" not in self._text:
            self._text += await self._chunk()
        line, _, self._text = self._text.partition("\n")
        return line

    async def comment(self, limit: int = 1000) -> str:
        """The next comment line (a keep-alive), skipping whatever comes before it."""
        for _ in range(limit):
            line = await self._line()
            if line.startswith(":"):
                return line[1:].strip()
        raise AssertionError(f"no comment among the next {limit} lines")

    async def wait_for(self, predicate: Callable[[ServerEvent], bool], limit: int = 1000) -> ServerEvent:
        for _ in range(limit):
            event = await self.next()
            if predicate(event):
                return event
        raise AssertionError(f"no matching event among the next {limit}")

    def close(self) -> None:
        self.writer.close()
