"""POST /api/recipes/draft: a BeerXML recipe turned into the draft of a batch and its profile, nothing stored.

The body is the recipe file (or the text pasted from it). The answer is the first recipe's name,
style, OG and FG, its fermentation stages, and a draft profile in the saved profiles' form (a hold
per stage) under a name the profiles accept; the dashboard loads it into the profile editor, to be
changed, saved and started with the batch. A stage the profile rules refuse (``parse_step``: a
temperature out of range, more than 365 days) is left out of the profile and said in ``notes``.

Reading a draft changes nothing, so it needs no token (unless ``--read-token-required``), but it is
counted against the same per-address budget as the changes, and parsed on the executor.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import tornado.web
from tornado.ioloop import IOLoop

from beerpi.base.errors import ConfigError
from beerpi.batches.beerxml import MAX_RECIPE_BYTES, NotBeerXml, RecipeDraft, read_recipes
from beerpi.control.profile_steps import DAY, HOLD, parse_step
from beerpi.repository.profiles import MAX_NAME_LENGTH, NAME_PUNCTUATION, check_name
from beerpi.web.api.handlers import ChamberHandler

NOT_IN_A_PROFILE_NAME = re.compile(rf"[^\w{re.escape(NAME_PUNCTUATION)}]+")


def draft_profile(draft: RecipeDraft) -> tuple[dict[str, Any] | None, list[str]]:
    """The draft's stages as a saved profile ``{name, steps}`` (None without a usable stage), and what was left out."""
    steps, notes = [], []
    for stage in draft.stages:
        if stage.temperature is None:
            notes.append(f"the {stage.name} stage ({stage.days:g} days) gives no temperature: left out of the profile")
            continue
        step = {"kind": HOLD, "target": round(stage.temperature, 2), "duration": round(stage.days * DAY)}
        try:
            parse_step(step, len(steps))
        except ConfigError as exc:
            reason = str(exc).split(": ", 1)[-1]
            notes.append(f"the {stage.name} stage ({stage.days:g} days at {stage.temperature:g} °C) cannot be a "
                         f"profile step ({reason}): left out of the profile")
            continue
        steps.append(step)
    return ({"name": profile_name(draft.name), "steps": steps} if steps else None), notes


def profile_name(recipe: str) -> str:
    """The recipe's name as a saved profile's name: what the names do not allow is a space, cut to their length."""
    text = " ".join(NOT_IN_A_PROFILE_NAME.sub(" ", unicodedata.normalize("NFC", recipe)).split())
    text = text[:MAX_NAME_LENGTH].strip() or "Recipe"
    try:
        return check_name(text)
    except ConfigError:
        return "Recipe"


def draft_answer(data: bytes | str) -> dict[str, Any]:
    """The endpoint's answer for a recipe file; NotBeerXml for what is not one. Blocking: on the executor."""
    draft, names = read_recipes(data)
    profile, notes = draft_profile(draft)
    recipe = draft.as_dict()
    recipe["profile"] = profile
    recipe["notes"] = [*recipe["notes"], *notes]
    return {"recipe": recipe, "recipes": list(names)}


@tornado.web.stream_request_body
class RecipeDraftHandler(ChamberHandler):
    """POST /api/recipes/draft: the body a BeerXML file, the answer its first recipe as a draft."""

    SUPPORTED_METHODS = ("POST",)
    READS_ONLY = True

    def prepare(self) -> None:
        self.prepare_for_a_body(MAX_RECIPE_BYTES, ": a recipe file is read up to 1 MiB")
        if not self._finished:
            self.request.connection.set_max_body_size(MAX_RECIPE_BYTES)

    async def post(self) -> None:  # type: ignore[override]
        if not self.within_budget():
            return
        data: bytes | str = bytes(self.body)
        if self.request.headers.get("Content-Type", "").lower().startswith("text/plain"):
            data = bytes(self.body).decode("utf-8", errors="replace")  # pasted text, sent as the page's UTF-8
        try:
            answer = await IOLoop.current().run_in_executor(None, draft_answer, data)
        except NotBeerXml as exc:
            self.fail(400, "not_beerxml", f"{exc}; nothing was changed")
            return
        self.answer(answer)
