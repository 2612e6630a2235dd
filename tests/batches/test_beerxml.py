"""BeerXML recipes as batch drafts: real exports of three programs, and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from beerpi.batches.beerxml import MAX_RECIPE_BYTES, NotBeerXml, Stage, read_recipes

FIXTURES = Path(__file__).parent.parent / "fixtures" / "beerxml"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(("file", "name", "style", "og", "fg", "stages", "recipes"), [
    # BeerSmith: four recipes, the first taken; its tertiary stage has 0 days and is skipped.
    ("beersmith-recipes.xml", "Burton Ale", "English Pale Ale", 1.056, 1.015,
     (Stage("primary", 4.0, 20.0), Stage("secondary", 7.0, 20.0), Stage("aging", 14.0, 11.111)),
     ("Burton Ale", "Dry Stout", "Porter", "Wit")),
    # Brewtarget: its primary age as it wrote it (minutes in a field of days); the profile rules judge it.
    ("brewtarget-coffee-stout.xml", "Coffee Stout", "Dry Stout", 1.049, 1.015,
     (Stage("primary", 14400.0, 21.11111111),), ("Coffee Stout",)),
])
def test_a_real_export_gives_its_name_style_gravities_and_stages(file, name, style, og, fg, stages, recipes):
    draft, names = read_recipes(fixture(file))

    assert (draft.name, draft.style, draft.og, draft.fg) == (name, style, og, fg)
    assert draft.stages == stages
    assert names == recipes
    assert draft.notes == ()


def test_text_reads_as_the_file_does():
    """Pasted text (already decoded) gives the same draft as the file's bytes."""
    text = fixture("brewtarget-coffee-stout.xml").decode("iso-8859-1")

    assert read_recipes(text) == read_recipes(fixture("brewtarget-coffee-stout.xml"))


@pytest.mark.parametrize(("xml", "expected"), [
    # lower-case tags, gravity in points, a lone RECIPE without RECIPES
    (b"<recipes><recipe><name>Low</name><est_og>1050</est_og><primary_age>3</primary_age>"
     b"<primary_temp>18</primary_temp></recipe></recipes>", ("Low", 1.05, None, (Stage("primary", 3.0, 18.0),))),
    (b"<RECIPE><NAME> Kolsch \n no. 2 </NAME><OG>1.046</OG><FG>1.009</FG><AGE>21</AGE></RECIPE>",
     ("Kolsch no. 2", 1.046, 1.009, (Stage("aging", 21.0, None),))),
    # characters written as references, a gravity with its unit
    (b"<RECIPES><RECIPE><NAME>K&#246;lsch &#38; Co</NAME><EST_OG>1.046 SG</EST_OG><PRIMARY_AGE>14</PRIMARY_AGE>"
     b"<PRIMARY_TEMP>15</PRIMARY_TEMP></RECIPE></RECIPES>", ("K\u00f6lsch & Co", 1.046, None, (Stage("primary", 14.0, 15.0),))),
    # the estimate wins over the recorded value; no stage at all is a draft without stages
    (b"<RECIPES><RECIPE><NAME>E</NAME><EST_OG>1.060 SG</EST_OG><OG>1.058</OG></RECIPE></RECIPES>",
     ("E", 1.06, None, ())),
])
def test_what_programs_write_differently_reads_the_same(xml, expected):
    draft, _ = read_recipes(xml)

    assert (draft.name, draft.og, draft.fg, draft.stages) == expected


@pytest.mark.parametrize(("xml", "note"), [
    (b"<RECIPES><RECIPE><NAME>P</NAME><OG>12</OG></RECIPE></RECIPES>", "OG (12.0) is not a specific gravity"),
    (b"<RECIPES><RECIPE><NAME>P</NAME><PRIMARY_AGE>two weeks</PRIMARY_AGE></RECIPE></RECIPES>",
     "primary stage was left out: its days (two weeks) are not a number"),
    (b"<RECIPES><RECIPE><NAME>P</NAME><SECONDARY_AGE>-3</SECONDARY_AGE></RECIPE></RECIPES>",
     "secondary stage was left out: -3 days"),
])
def test_what_cannot_be_used_is_left_out_and_said(xml, note):
    draft, _ = read_recipes(xml)

    assert draft.name == "P"
    assert any(note in text for text in draft.notes), draft.notes


@pytest.mark.parametrize(("data", "words"), [
    (b"", "it is empty"),
    (b"   \n", "it is empty"),
    (b"Name,OG\nPale Ale,1.050\n", "it is not XML"),
    (b"<html><body>a recipe</body></html>", "top element is <html>"),
    (b"<RECIPES></RECIPES>", "holds no RECIPES with a RECIPE"),
    (b"<RECIPES><HOPS/></RECIPES>", "holds no RECIPES with a RECIPE"),
    (b"<RECIPES><RECIPE><VERSION>1</VERSION></RECIPE></RECIPES>", "the recipe has no name"),
    (b"<RECIPES><RECIPE><NAME>   </NAME></RECIPE></RECIPES>", "the recipe has no name"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
     b"<RECIPES><RECIPE><NAME>&b;</NAME></RECIPE></RECIPES>", "declares a DTD or entities"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     b"<RECIPES><RECIPE><NAME>&x;</NAME></RECIPE></RECIPES>", "declares a DTD or entities"),
])
def test_what_is_not_beerxml_is_refused_in_words(data, words):
    with pytest.raises(NotBeerXml) as refused:
        read_recipes(data)

    assert words in str(refused.value)


def test_a_file_over_the_bound_is_refused_before_it_is_parsed():
    big = b"<RECIPES><RECIPE><NAME>Big</NAME><NOTES>" + b"x" * MAX_RECIPE_BYTES + b"</NOTES></RECIPE></RECIPES>"

    with pytest.raises(NotBeerXml, match="at most 1024 KiB"):
        read_recipes(big)
