"""The client's tests talk to a simulated server of their own."""

from tests.support.client_process import server  # noqa: F401  (the fixture)
