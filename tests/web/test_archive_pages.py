"""The archive's pages on the real service: /batches, a batch's page, "No such batch" (404), hosts refused."""

from __future__ import annotations

import pytest

from tests.support.api_client import fetch, post


@pytest.mark.gen_test(timeout=60)
async def test_the_archive_and_a_batchs_page_are_served_and_a_missing_batch_is_a_404(start_service):
    # Given a server with one batch
    service = start_service()
    started = await post(service.port, "/api/batches", {"action": "start", "name": "Pale Ale"})
    batch_id = started.json["batch"]["id"]
    # Then the archive and the batch's page are served to anyone, a shared ?token= kept out of the way
    archive = await fetch(service.port, "/batches?q=pale")
    assert archive.status == 200 and "archive-main.js" in archive.text
    page = await fetch(service.port, f"/batches/{batch_id}?token=anything")
    assert page.status == 200 and f'data-batch="{batch_id}"' in page.text and "batch-page.js" in page.text
    # And a batch it never had is a plain "No such batch" with a way back to the archive
    missing = await fetch(service.port, "/batches/18ee0000000000000000dead")
    assert missing.status == 404
    assert "No such batch" in missing.text and 'href="/batches"' in missing.text
    assert "batch-page.js" not in missing.text  # nothing left to load
    # And an id is shown as text, never as markup
    hostile = await fetch(service.port, "/batches/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
    assert hostile.status == 404 and "<script>alert" not in hostile.text


@pytest.mark.gen_test(timeout=60)
async def test_a_page_with_a_watch_token_required_does_not_say_which_batches_exist(start_service):
    # Given a server where watching needs the token
    service = start_service(read_token_required=True)
    # Then a batch's page is served without looking the batch up: its script asks the API with the token
    page = await fetch(service.port, "/batches/18ee0000000000000000dead")
    assert page.status == 200 and "batch-page.js" in page.text
    assert (await fetch(service.port, "/api/batches/18ee0000000000000000dead")).status == 401


@pytest.mark.gen_test(timeout=60)
async def test_the_pages_refuse_a_host_that_is_not_the_servers(start_service):
    service = start_service()
    for path in ("/batches", "/batches/anything"):
        answer = await fetch(service.port, path, headers={"Host": f"evil.example:{service.port}"})
        assert answer.status == 403 and "--allow-host" in answer.text
