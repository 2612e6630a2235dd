"""``batch``: start, end, note and delete a brew, and list the batches, one request each, the answer printed."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from beerpi.client.lines import local_time

if TYPE_CHECKING:  # the session needs websockets, which --help and bad usage do without
    from beerpi.client.session import Frame, Session

ACTIONS = ("start", "end", "note", "delete", "list")


def add_arguments(batch: argparse.ArgumentParser, connection_options: Callable[[argparse.ArgumentParser, str], None],
                  decimal: Callable[[str], float]) -> None:
    """The ``batch`` command's actions and their options."""
    actions = batch.add_subparsers(dest="action", required=True, metavar="ACTION")
    start = actions.add_parser("start", help="start a batch in a chamber (needs the token)")
    end = actions.add_parser("end", help="end a chamber's open batch (needs the token)")
    note = actions.add_parser("note", help="a note on a chamber's open batch, now (needs the token)")
    delete = actions.add_parser("delete", help="delete an ended batch and its notes; its readings stay (needs the token)")
    listing = actions.add_parser("list", help="every batch, newest first")
    start.add_argument("name", help="the brew's name, e.g. 'Pale Ale'")  # before the URL, as profile load's FILE
    delete.add_argument("batch", help="the batch's id, as `batch list --json` shows it")
    connection_options(delete, "the control token")
    for action in (start, end, note):
        connection_options(action, "the control token")
        action.add_argument("--chamber", help="the chamber's id (may be left out when there is only one)")
    connection_options(listing, "the control token; only needed with --read-token-required")
    start.add_argument("--style", help="its style, e.g. 'American Pale Ale'")
    start.add_argument("--og", type=decimal, help="original gravity, e.g. 1.050 (default: measured)")
    start.add_argument("--hydrometer", help="the hydrometer floating in it, as the dashboard names it")
    start.add_argument("--profile", help="a saved profile to start on the chamber with it")
    end.add_argument("--fg", type=decimal, help="final gravity, e.g. 1.010 (default: measured)")
    note.add_argument("--text", help="e.g. 'dry hop 100 g Citra'")
    note.add_argument("--gravity", type=decimal, help="a gravity read by hand, e.g. 1.020: it counts as the batch's")
    listing.add_argument("--search", help="only those whose name holds this, in any case")
    for action in (start, end, note, delete, listing):
        action.add_argument("--json", action="store_true", help="print the answer as JSON")


def request_of(args: argparse.Namespace, chamber: str | None) -> dict[str, Any]:
    """The frame an action sends (``chamber``: the one named, or the only one)."""
    if args.action == "list":
        return {"type": "batches", **({"search": args.search} if args.search else {})}
    if args.action == "delete":
        return {"type": "batch", "action": "delete", "batch": args.batch}
    frame: dict[str, Any] = {"type": "batch", "action": args.action}
    if chamber is not None:
        frame["chamber"] = chamber
    fields = {"start": ("name", "style", "og", "hydrometer", "profile"), "end": ("fg",), "note": ("text", "gravity")}
    frame.update({key: getattr(args, key) for key in fields[args.action] if getattr(args, key) is not None})
    return frame


def batch_line(batch: Frame) -> str:
    """``Pale Ale (APA) in main: 2025-11-21 18:00 to now · OG 1.050``."""
    style = f" ({batch['style']})" if batch.get("style") else ""
    ended = local_time(batch["ended"]) if batch.get("ended") is not None else "now"
    gravities = [f"{key.upper()} {batch[key]:.3f}" for key in ("og", "fg") if batch.get(key) is not None]
    return " · ".join([f"{batch['name']}{style} in {batch['chamber']}: {local_time(batch['started'])} to {ended}",
                       *gravities])


async def run(session: Session, args: argparse.Namespace, timeout: float, warn: Callable[[str], None],
              out: TextIO = sys.stdout) -> int:
    chamber = None if args.action in ("list", "delete") else session.chamber(args.chamber)
    reply = await session.request(request_of(args, chamber), lambda _: None, timeout, warn, strict_id=True)
    if args.json:
        print(json.dumps(reply), file=out)
    elif args.action == "list":
        for batch in reply.get("batches", []):
            print(batch_line(batch), file=out)
        if not reply.get("batches"):
            print("no batches" + (f" named like {args.search!r}" if args.search else ""), file=sys.stderr)
    elif args.action == "delete":
        print(f"deleted: {batch_line(reply['batch'])}", file=out)
    else:
        print(batch_line(reply["batch"]), file=out)
        if reply.get("note"):
            note = reply["note"]
            text = " · ".join(str(part) for part in (note.get("text"), note.get("gravity")) if part is not None)
            print(f"  {local_time(note['ts'])}  {text}", file=out)
    return 0
