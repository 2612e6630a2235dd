"""The compare page's handler on the real service: served to the server's own names, refused to others."""

from __future__ import annotations

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError


@pytest.mark.gen_test(timeout=30)
async def test_the_compare_page_is_served_with_its_script_and_stylesheet(start_service):
    service = start_service()
    page = await AsyncHTTPClient().fetch(f"http://127.0.0.1:{service.port}/compare?batches=a,b")
    body = page.body.decode()
    assert page.code == 200
    assert "js/compare-main.js" in body and "compare.css" in body and 'href="/batches"' in body
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


@pytest.mark.gen_test(timeout=30)
async def test_the_compare_page_is_refused_to_a_foreign_host(start_service):
    # Given evil.example, made to resolve to this machine (DNS rebinding)
    service = start_service()
    with pytest.raises(HTTPClientError) as caught:
        await AsyncHTTPClient().fetch(f"http://127.0.0.1:{service.port}/compare?batches=a,b",
                                      headers={"Host": f"evil.example:{service.port}"})
    # Then the page is not served, and the answer says what to do
    assert caught.value.code == 403
    assert "--allow-host" in caught.value.response.body.decode()
