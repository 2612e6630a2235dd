"""The WebSocket protocol without I/O: incoming commands, outgoing frames, JSON on the wire, command rates, access tokens."""
