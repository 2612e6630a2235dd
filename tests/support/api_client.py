"""Plain HTTP requests to a test server, answered as (status, headers, JSON or text)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httputil import HTTPHeaders
from tornado.web import Application

from beerpi.app.service import Service
from beerpi.web.hub import Hub
from tests.support.process import TEST_TOKEN

WAIT = 10.0


@dataclass
class Answer:
    status: int
    headers: HTTPHeaders
    text: str

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def error(self) -> dict[str, str]:
        return self.json["error"]


async def fetch(port: int, path: str, method: str = "GET", body: bytes | str | dict | None = None,
                token: str | None = None, headers: dict[str, str] | None = None) -> Answer:
    """One request to ``path``; ``token`` goes in ``Authorization: Bearer``; never raises for a status."""
    all_headers = dict(headers or {})
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    if isinstance(body, dict):
        body = json.dumps(body)
    request = HTTPRequest(f"http://127.0.0.1:{port}{path}", method=method, headers=all_headers,
                          body=body if body is not None else (b"" if method == "POST" else None),
                          request_timeout=WAIT, connect_timeout=WAIT)
    response = await AsyncHTTPClient().fetch(request, raise_error=False)
    assert response.code != 599, f"no answer: {response.error}"
    return Answer(response.code, response.headers, response.body.decode() if response.body else "")


async def post(port: int, path: str, body: bytes | str | dict | None, token: str | None = TEST_TOKEN,
               headers: dict[str, str] | None = None) -> Answer:
    return await fetch(port, path, "POST", body, token, headers)


def hub_of(service: Service) -> Hub:
    """The hub a running service's handlers were given."""
    app = service.http_server.request_callback
    assert isinstance(app, Application)
    for rule in app.wildcard_router.rules:
        if rule.target_kwargs and "hub" in rule.target_kwargs:
            return rule.target_kwargs["hub"]
    raise AssertionError("no handler was given the hub")
