"""``python -m beerpi.client batch``: a brew started, noted and ended from a shell, then listed."""

from __future__ import annotations

import json
import re

from tests.support.client_process import client, url
from tests.support.process import TEST_TOKEN

WHEN = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"


def test_a_batch_started_noted_ended_and_listed_from_a_shell(server):
    address = url(server.port)
    started = client("batch", "start", "Pale Ale", address, "--style", "APA", "--og", "1.050", "--token", TEST_TOKEN)
    assert started.returncode == 0, started.stderr
    assert re.fullmatch(rf"Pale Ale \(APA\) in main: {WHEN} to now · OG 1\.050\n", started.stdout), started.stdout
    noted = client("batch", "note", address, "--text", "dry hop 100 g Citra", "--gravity", "1.020", "--token", TEST_TOKEN)
    assert noted.returncode == 0 and re.search(rf"^  {WHEN}  dry hop 100 g Citra · 1\.02$", noted.stdout, re.M), \
        noted.stdout
    ended = client("batch", "end", "--fg", "1.010", address, "--token", TEST_TOKEN)
    assert ended.returncode == 0 and re.search(rf"to {WHEN} · OG 1\.050 · FG 1\.010$", ended.stdout, re.M), \
        ended.stdout
    listed = client("batch", "list", "--search", "pale", address)  # watching needs no token
    assert listed.returncode == 0 and listed.stdout == ended.stdout


def test_changing_a_batch_needs_the_token_and_a_note_needs_something_to_say(server):
    address = url(server.port)
    refused = client("batch", "start", "Stout", address)
    assert refused.returncode == 2 and "pass --token" in refused.stderr
    empty = client("batch", "note", address, "--token", TEST_TOKEN)
    assert empty.returncode == 2 and "needs --text, --gravity, or both" in empty.stderr
    assert client("batch", "list", address).stdout == ""


def test_an_ended_batch_is_deleted_from_a_shell_by_its_id(server):
    address = url(server.port)
    started = client("batch", "start", "Mild", address, "--json", "--token", TEST_TOKEN)
    batch_id = json.loads(started.stdout)["batch"]["id"]
    refused = client("batch", "delete", batch_id, address, "--token", TEST_TOKEN)
    assert refused.returncode != 0 and "end it before deleting it" in refused.stderr, refused
    client("batch", "end", address, "--token", TEST_TOKEN)
    deleted = client("batch", "delete", batch_id, address, "--token", TEST_TOKEN)
    assert deleted.returncode == 0 and deleted.stdout.startswith("deleted: Mild in main:"), deleted
    assert client("batch", "list", address).stdout == ""
