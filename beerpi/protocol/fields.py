"""What every command's parser shares: the refusal (``ProtocolError``), the request id's type,
and the checks of the fields every command may carry."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

RequestId = str | int | float


class ProtocolError(Exception):
    """A client frame that is refused; sent back as an ``error`` frame (with the request's
    ``id`` when it had a valid one)."""

    def __init__(self, code: str, message: str, request_id: RequestId | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


def only(message: dict[str, Any], name: str, fields: Sequence[str]) -> None:
    """Refuse (``unknown_field``) a field the command does not have."""
    unknown = sorted(set(message) - {"type", *fields})
    if unknown:
        raise ProtocolError("unknown_field", f"{name} has no field {unknown[0]!r}: its fields are "
                                             f"{', '.join(fields)}")


def chamber_field(message: dict[str, Any]) -> str | None:
    """The ``chamber`` named (None: the only chamber); its existence is the dispatcher's to check."""
    chamber = message.get("chamber")
    if chamber is not None and not isinstance(chamber, str):
        raise ProtocolError("invalid_value", "chamber must be a chamber's id (a string) from hello")
    return chamber
