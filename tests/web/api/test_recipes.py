"""POST /api/recipes/draft on the real service: recipe files of two programs, what is refused, the bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from beerpi.batches.beerxml import MAX_RECIPE_BYTES, RecipeDraft, Stage
from beerpi.repository.profiles import check_name
from beerpi.web.api.recipes import draft_profile, profile_name
from tests.support.api_client import fetch, post

FIXTURES = Path(__file__).parent.parent.parent / "fixtures" / "beerxml"
DAY = 86400


def recipe_file(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.gen_test(timeout=60)
async def test_a_recipe_file_becomes_a_draft_and_nothing_is_stored(start_service):
    # Given a running server, watched without the token
    service = start_service()
    profiles_before = (await fetch(service.port, "/api/profiles")).json["profiles"]
    # When a BeerSmith file of four recipes is sent
    answer = await post(service.port, "/api/recipes/draft", recipe_file("beersmith-recipes.xml"), token=None,
                        headers={"Content-Type": "application/xml"})
    # Then the first is the draft, the others are named, and its stages are a profile of holds
    assert answer.status == 200, answer.text
    recipe = answer.json["recipe"]
    assert answer.json["recipes"] == ["Burton Ale", "Dry Stout", "Porter", "Wit"]
    assert (recipe["name"], recipe["style"], recipe["og"], recipe["fg"]) == ("Burton Ale", "English Pale Ale",
                                                                             1.056, 1.015)
    assert recipe["profile"] == {"name": "Burton Ale", "steps": [
        {"kind": "hold", "target": 20.0, "duration": 4 * DAY},
        {"kind": "hold", "target": 20.0, "duration": 7 * DAY},
        {"kind": "hold", "target": 11.11, "duration": 14 * DAY}]}
    assert recipe["notes"] == []
    # And a Brewtarget file, pasted as text, gives its name and gravities; its one stage (minutes
    # written where days belong) is left out of the profile, saying why
    pasted = recipe_file("brewtarget-coffee-stout.xml").decode("iso-8859-1")
    answer = await post(service.port, "/api/recipes/draft", pasted, headers={"Content-Type": "text/plain;charset=UTF-8"})
    assert answer.status == 200, answer.text
    recipe = answer.json["recipe"]
    assert (recipe["name"], recipe["og"], recipe["fg"]) == ("Coffee Stout", 1.049, 1.015)
    assert recipe["profile"] is None and "14400 days" in recipe["notes"][0]
    # And nothing was saved or started
    assert (await fetch(service.port, "/api/profiles")).json["profiles"] == profiles_before
    assert (await fetch(service.port, "/api/batches")).json["batches"] == []


@pytest.mark.gen_test(timeout=60)
async def test_a_stage_no_profile_can_hold_is_left_out_and_said(start_service):
    service = start_service()
    # A Brewtarget file whose primary stage is 14400 "days" (minutes, written in a field of days)
    answer = await post(service.port, "/api/recipes/draft", recipe_file("brewtarget-coffee-stout.xml"))

    assert answer.status == 200, answer.text
    recipe = answer.json["recipe"]
    assert (recipe["name"], recipe["og"]) == ("Coffee Stout", 1.049)
    assert recipe["profile"] is None
    assert len(recipe["notes"]) == 1 and "primary stage (14400 days" in recipe["notes"][0]
    assert "365 days" in recipe["notes"][0]


@pytest.mark.gen_test(timeout=60)
@pytest.mark.parametrize(("body", "words"), [
    (b"Name,OG\nPale Ale,1.050\n", "it is not XML"),
    (b"<html><body>a recipe</body></html>", "holds no RECIPES with a RECIPE"),
    (b"<RECIPES><RECIPE><OG>1.050</OG></RECIPE></RECIPES>", "the recipe has no name"),
    (b"", "it is empty"),
])
async def test_what_is_not_beerxml_is_refused_and_changes_nothing(start_service, body, words):
    service = start_service()

    answer = await post(service.port, "/api/recipes/draft", body)

    assert (answer.status, answer.error["code"]) == (400, "not_beerxml")
    assert words in answer.error["message"] and "nothing was changed" in answer.error["message"]


@pytest.mark.gen_test(timeout=60)
async def test_the_body_is_bounded_and_the_token_rules_hold(start_service):
    service = start_service()
    # A body over 1 MiB is refused before it is read
    big = b"<RECIPES><RECIPE><NAME>Big</NAME><NOTES>" + b"x" * MAX_RECIPE_BYTES + b"</NOTES></RECIPE></RECIPES>"
    answer = await post(service.port, "/api/recipes/draft", big)
    assert (answer.status, answer.error["code"]) == (413, "too_large")
    # One just under 64 KiB's server-wide limit and over it both pass: a recipe may be up to 1 MiB
    padded = b"<RECIPES><RECIPE><NAME>Long notes</NAME><NOTES>" + b"x" * 200_000 + b"</NOTES></RECIPE></RECIPES>"
    assert (await post(service.port, "/api/recipes/draft", padded)).json["recipe"]["name"] == "Long notes"
    # A wrong token is refused as anywhere; GET is not a method of this endpoint
    assert (await post(service.port, "/api/recipes/draft", recipe_file("beersmith-recipes.xml"),
                       token="wrong")).status == 401
    assert (await fetch(service.port, "/api/recipes/draft")).status == 405


@pytest.mark.gen_test(timeout=60)
async def test_with_read_token_required_a_draft_needs_the_token(start_service):
    service = start_service(read_token_required=True)
    body = recipe_file("beersmith-recipes.xml")

    assert (await post(service.port, "/api/recipes/draft", body, token=None)).status == 401
    assert (await post(service.port, "/api/recipes/draft", body)).status == 200


@pytest.mark.parametrize(("recipe", "profile"), [
    ("Burton Ale - Clone", "Burton Ale - Clone"),
    ("Pale Ale: v2 <Citra!>", "Pale Ale v2 Citra"),
    ("Kölsch", "Kölsch"),
    ("A very long recipe name that goes on past forty characters", "A very long recipe name that goes on pas"),
    ("???", "Recipe"),
])
def test_a_recipe_name_becomes_a_name_the_saved_profiles_accept(recipe, profile):
    assert profile_name(recipe) == profile
    assert check_name(profile) == profile


def test_a_stage_without_a_temperature_is_left_out_of_the_profile():
    draft = RecipeDraft("Lager", None, None, None, (Stage("primary", 10, 10.0), Stage("aging", 28, None)))

    profile, notes = draft_profile(draft)

    assert profile == {"name": "Lager", "steps": [{"kind": "hold", "target": 10.0, "duration": 10 * DAY}]}
    assert notes == ["the aging stage (28 days) gives no temperature: left out of the profile"]
