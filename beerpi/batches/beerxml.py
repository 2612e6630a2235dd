"""A BeerXML recipe as the draft of a batch: its name, style, OG and FG, and its fermentation stages.

Pure: the file's bytes (or text) in, a ``RecipeDraft`` out, nothing stored. BeerXML 1.0 is read by
``pybeerxml``, after ``defusedxml`` has parsed the document: a file with a DTD (entities, external
references, the "billion laughs") is refused before anything expands, and so is one over
``MAX_RECIPE_BYTES``. Tags are matched in any case, since some programs write them in lower case.
``pybeerxml`` (and pydantic under it, some 20 MB) is imported at the first recipe read, not at start.

A file may hold several recipes: the draft is the first, and ``recipes`` names them all. Each stage
the recipe gives (primary, secondary, tertiary, aging) with a number of days above 0 becomes a
``Stage``; a stage of 0 days is skipped. What the profile rules (``control``) make of the stages
is the caller's: this module does not know their limits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from beerpi.base.errors import BeerPiError, ConfigError
from beerpi.batches.model import MAX_NAME_LENGTH, check_gravity

MAX_RECIPE_BYTES = 1024 * 1024  # the largest program exports of many recipes are a few hundred kB
# (stage, the recipe's field of its days, the field of its temperature in °C), in the order brewed.
STAGES = (("primary", "primary_age", "primary_temp"), ("secondary", "secondary_age", "secondary_temp"),
          ("tertiary", "tertiary_age", "tertiary_temp"), ("aging", "age", "age_temp"))
# A number as the programs write it: "1.056", "1.056 SG", "4.0000000", "2.00000e+01".
LEADING_NUMBER = re.compile(r"\s*([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*(sg)?\s*", re.I)
GRAVITY_POINTS = (980.0, 1200.0)  # "1056": gravity written in points, as some programs do
NOT_BEERXML = "this is not a BeerXML recipe file"


class NotBeerXml(BeerPiError, ValueError):
    """What was sent cannot be read as a BeerXML recipe; the message says why. Nothing changed."""


@dataclass(frozen=True, slots=True)
class Stage:
    """One fermentation stage of a recipe: ``days`` at ``temperature`` °C (None: the recipe gives none)."""

    name: str
    days: float
    temperature: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "days": self.days, "temperature": self.temperature}


@dataclass(frozen=True, slots=True)
class RecipeDraft:
    """What a batch and its profile would start from; ``notes`` say what of the recipe was left out."""

    name: str
    style: str | None
    og: float | None
    fg: float | None
    stages: tuple[Stage, ...]
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "style": self.style, "og": self.og, "fg": self.fg,
                "stages": [stage.as_dict() for stage in self.stages], "notes": list(self.notes)}


def read_recipes(data: bytes | str) -> tuple[RecipeDraft, tuple[str, ...]]:
    """The draft of the file's first recipe and the names of all its recipes; NotBeerXml otherwise."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_RECIPE_BYTES:
        raise NotBeerXml(f"the recipe file is {size // 1024} KiB: at most {MAX_RECIPE_BYTES // 1024} KiB is read")
    root = _document(data)
    from pybeerxml.parser import Parser  # lazily: see the module's docstring
    from pydantic import ValidationError
    try:
        recipes = Parser().parse_tree(ElementTree(root))
    except ValidationError as exc:
        raise NotBeerXml(f"{NOT_BEERXML}: {exc.errors()[0].get('msg', 'a field cannot be read')}") from None
    if not recipes:
        raise NotBeerXml(f"{NOT_BEERXML}: its RECIPES holds no RECIPE")
    names = tuple(_label(recipe.name) or "(no name)" for recipe in recipes)
    return _draft(recipes[0]), names


def _document(data: bytes | str) -> Element:
    """The document's root as RECIPES, its tags in upper case; NotBeerXml for what is not XML or not recipes."""
    if not (data.strip() if isinstance(data, (str, bytes)) else data):
        raise NotBeerXml(f"{NOT_BEERXML}: it is empty")
    try:
        root = fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise NotBeerXml(f"{NOT_BEERXML}: it declares a DTD or entities, which BeerXML never does") from None
    except (ParseError, ValueError) as exc:
        raise NotBeerXml(f"{NOT_BEERXML}: it is not XML ({exc})") from None
    top = root.tag
    for element in root.iter():
        if isinstance(element.tag, str):
            element.tag = element.tag.upper()
    if root.tag == "RECIPE":  # a lone recipe without its RECIPES around it
        wrapper = Element("RECIPES")
        wrapper.append(root)
        root = wrapper
    if root.tag != "RECIPES" or root.find("RECIPE") is None:
        raise NotBeerXml(f"{NOT_BEERXML}: it is XML, but holds no RECIPES with a RECIPE in it (its top "
                         f"element is <{top}>)")
    return root


def _draft(recipe: Any) -> RecipeDraft:
    name = _label(recipe.name)
    if not name:
        raise NotBeerXml("the recipe has no name: BeerXML requires one (NAME); give it one in the program "
                         "that wrote the file")
    notes: list[str] = []
    og = _gravity(recipe.est_og, "estimated OG", notes) or _gravity(recipe.og_, "OG", notes)
    fg = _gravity(recipe.est_fg, "estimated FG", notes) or _gravity(recipe.fg_, "FG", notes)
    stages = []
    for stage, age_field, temp_field in STAGES:
        given = getattr(recipe, age_field)
        days = _number(given)
        if days is None and given not in (None, ""):
            notes.append(f"the {stage} stage was left out: its days ({given}) are not a number")
        if days is None or days == 0:
            continue
        if days < 0:
            notes.append(f"the {stage} stage was left out: {days:g} days")
            continue
        stages.append(Stage(stage, days, _number(getattr(recipe, temp_field))))
    style = _label(recipe.style.name) if recipe.style is not None else None
    return RecipeDraft(name, style or None, og, fg, tuple(stages), tuple(notes))


def _number(value: Any) -> float | None:
    """A number the recipe gives, with or without its unit ("1.056 SG"); None for none or for words."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        match = LEADING_NUMBER.fullmatch(str(value))
        if match is None:
            return None
        number = float(match.group(1))
    return number if number == number and abs(number) != float("inf") else None


def _gravity(value: Any, what: str, notes: list[str]) -> float | None:
    """A specific gravity from the recipe (points such as 1056 read as 1.056); None, noted, if it is not one."""
    number = _number(value)
    if number is None or number == 0:
        return None
    if GRAVITY_POINTS[0] <= number <= GRAVITY_POINTS[1]:
        number /= 1000
    try:
        return round(check_gravity(number, what), 4)
    except ConfigError:
        notes.append(f"the recipe's {what} ({value}) is not a specific gravity: left out")
        return None


def _label(value: Any) -> str:
    """Text of the recipe on one line, its ends trimmed, cut to a batch name's length ("" for none)."""
    if not isinstance(value, str):
        return ""
    text = unicodedata.normalize("NFC", value)
    text = " ".join("".join(" " if unicodedata.category(c) in ("Cc", "Cs") else c for c in text).split())
    return text[:MAX_NAME_LENGTH].rstrip()
