"""``python -m beerpi.client``: the command line, its help and its exit codes."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import Any

from beerpi.base.numbers import parse_decimal, parse_whole
from beerpi.base.time_parsing import parse_duration, parse_time
from beerpi.client import batches
from beerpi.client.address import TOKEN_VARIABLE, URL_VARIABLE, AddressError, choose_token, default_url, normalise
from beerpi.client.steps import StepsFileError, load_steps

PROG = "python -m beerpi.client"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
MODES = ("auto", "heat", "cool", "off", "on")
ACTIONS = ("pause", "resume", "skip", "stop")

DESCRIPTION = f"""\
A small client of a BeerPi server's WebSocket (docs/protocol.md): watch readings and states,
change a chamber's settings, run a fermentation profile, fetch history.

URL is the server's WebSocket, ws://<host>:8888/ws (default: ${URL_VARIABLE}, else
ws://localhost:8888/ws); host:port or the dashboard's http:// link work too.
Watching needs no token. Changing anything needs the control token the server printed at
start: --token, the link's ?token=, or ${TOKEN_VARIABLE}. It is sent as an
"Authorization: Bearer" header and never printed."""

EPILOG = f"""\
examples:
  {PROG} watch ws://beerpi.local:8888/ws
  {PROG} watch ws://beerpi.local:8888/ws --chamber lager --json
  BEERPI_TOKEN=... {PROG} set ws://beerpi.local:8888/ws --chamber main --target 19.5
  {PROG} set --target 18 --hysteresis 0.2 --mode auto --token ...
  {PROG} profile load ale.toml --chamber main --token ...
  {PROG} profile pause --chamber main --token ...
  {PROG} history --probe wort --since 24h --points 96 --csv > wort.csv

exit codes:
  0    done (watch: also after Ctrl-C)
  1    failed: cannot connect, the server refused the command (its message is printed),
       no reply in time
  2    bad usage, or the control token is missing, wrong or locked out (unauthorized,
       rate_limited)
  130  interrupted (Ctrl-C) while waiting for a reply"""


def _decimal(text: str) -> float:
    try:
        return parse_decimal(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _whole(text: str) -> int:
    try:
        return parse_whole(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _duration(text: str) -> float:
    """Seconds: a plain number, or 90s, 30m, 36h, 7d."""
    try:
        return parse_decimal(text)
    except ValueError:
        pass
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _connection_options(parser: argparse.ArgumentParser, token_help: str) -> None:
    parser.add_argument("url", nargs="?", default=None, metavar="URL",
                        help=f"the server's WebSocket (default: ${URL_VARIABLE} or ws://localhost:8888/ws)")
    parser.add_argument("--token", help=f"{token_help} (default: the URL's ?token= or ${TOKEN_VARIABLE})")
    parser.add_argument("--timeout", type=_decimal, default=10.0, metavar="SECONDS",
                        help="how long to wait to connect and for a reply (default: 10)")


def _subcommand(commands: Any, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    return commands.add_parser(name, help=summary, description=description, epilog="examples:\n" + examples,
                               formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    watch = _subcommand(
        commands, "watch", "print readings and states as they arrive",
        "Print each reading (local time, probe, °C) and each chamber state (mode, target, what it\n"
        "is doing, fault) as it arrives, one line each. When the server goes away, say so on\n"
        "stderr and reconnect with a growing delay. Ctrl-C ends it.",
        f"  {PROG} watch ws://beerpi.local:8888/ws\n  {PROG} watch --chamber lager --json | jq .temperature")
    _connection_options(watch, "the control token; only needed when the server was started with "
                               "--read-token-required")
    watch.add_argument("--chamber", help="only this chamber's states and its probes' readings")
    watch.add_argument("--json", action="store_true", help="the raw JSON frames, one per line")

    set_ = _subcommand(
        commands, "set", "change a chamber's target, hysteresis or mode",
        "Send a set command and wait for the answer; print the chamber's new state. Needs the token.",
        f"  {PROG} set --chamber main --target 19.5 --token ...\n  {PROG} set --mode off  # the only chamber")
    _connection_options(set_, "the control token")
    set_.add_argument("--chamber", help="the chamber's id (may be left out when there is only one)")
    set_.add_argument("--target", type=_decimal, help="set point, °C (0 to 40, within the chamber's limits)")
    set_.add_argument("--hysteresis", type=_decimal, help="half-width of the control band, °C (0.05 to 5)")
    set_.add_argument("--mode", choices=MODES, help="auto: thermostat; heat or cool: that output by hand; "
                                                    "off: everything off")
    set_.add_argument("--json", action="store_true", help="print the new state as JSON")

    profile = _subcommand(
        commands, "profile", "start, pause, resume, skip or stop a fermentation profile",
        "Run a chamber's fermentation profile. load starts the steps of a TOML or JSON file;\n"
        "pause, resume, skip and stop act on the running profile. Needs the token.\n\n"
        "A TOML file has one [[steps]] table per step: kind = \"hold\" or \"ramp\", target (°C),\n"
        "and duration (seconds, or 30m, 36h, 7d) or, for a ramp, rate (°C per day). A JSON file\n"
        "holds {\"steps\": [...]} with the same fields, as the profile command's steps.",
        f"  {PROG} profile load ale.toml --chamber main --token ...\n"
        f"  {PROG} profile load ale.toml --at-step 2   # begin at the third step\n"
        f"  {PROG} profile load ale.toml --elapsed 3d  # begin three days in\n"
        f"  {PROG} profile skip --chamber main")
    actions = profile.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser("load", help="start (or --replace) the steps of FILE",
                              description="Start the steps of FILE now, at a step or partway.")
    load.add_argument("file", metavar="FILE", help="the steps: TOML, or JSON when named *.json")
    _connection_options(load, "the control token")
    start = load.add_mutually_exclusive_group()
    start.add_argument("--at-step", type=_whole, metavar="N", help="begin at the start of step N (0 is the first)")
    start.add_argument("--elapsed", type=_duration, metavar="TIME",
                       help="begin this far into the profile: seconds, or 90s, 30m, 36h, 7d")
    start.add_argument("--replace", action="store_true",
                       help="change the running profile's steps, keeping its place, instead of starting")
    for action in ACTIONS:
        _connection_options(actions.add_parser(action, help=f"{action} the running profile"), "the control token")
    for leaf in [load, *(actions.choices[action] for action in ACTIONS)]:
        leaf.add_argument("--chamber", help="the chamber's id (may be left out when there is only one)")
        leaf.add_argument("--json", action="store_true", help="print the new state as JSON")

    history = _subcommand(
        commands, "history", "min, mean and max of a probe over a time range",
        "Ask for one probe's readings of a time range, summarised into at most --points buckets\n"
        "of min, mean and max. Times: a duration ago (30m, 24h, 7d), an ISO time (local unless\n"
        "it names its offset: 2025-11-21T18:00), Unix seconds, or now.",
        f"  {PROG} history --probe wort --since 24h\n"
        f"  {PROG} history --probe sim-wort --since 2025-11-01 --until 2025-11-08 --points 168 --csv")
    _connection_options(history, "the control token; only needed when the server was started with "
                                 "--read-token-required")
    history.add_argument("--probe", required=True, help="the probe's id or name, as in the dashboard")
    history.add_argument("--since", default="24h", help="start of the range (default: 24h ago)")
    history.add_argument("--until", default="now", help="end of the range (default: now)")
    history.add_argument("--points", type=_whole, default=100, help="at most this many buckets, 1 to 5000 "
                                                                 "(default: 100)")
    output = history.add_mutually_exclusive_group()
    output.add_argument("--csv", action="store_true", help="CSV with a header: time,ts,min,mean,max,count")
    output.add_argument("--json", action="store_true", help="the raw history frame")
    batch = _subcommand(
        commands, "batch", "start, end, note and delete a brew; list the batches",
        "A batch is a brew in a chamber: its name, its start and end, notes on its timeline and\n"
        "its gravities. start, end, note and delete need the token; list does not.",
        f"  {PROG} batch start 'Pale Ale' ws://beerpi.local:8888/ws --style APA --og 1.050 --profile ale\n"
        f"  {PROG} batch note --text 'dry hop 100 g Citra' --chamber main\n"
        f"  {PROG} batch note --gravity 1.020\n"
        f"  {PROG} batch end --fg 1.010\n"
        f"  {PROG} batch list --search pale\n"
        f"  {PROG} batch delete 18ee3510361957181b6946e3")
    batches.add_arguments(batch, _connection_options, _decimal)
    return parser


async def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Connect and do the command; ClientError says what went wrong."""
    # websockets is imported only from here on, so --help and bad usage work without it.
    from beerpi.client.session import ClientError

    try:
        url, url_token = normalise(args.url or default_url())
    except AddressError as exc:
        parser.error(str(exc))
    token = choose_token(args.token, url_token)
    try:
        return await _dispatch(args, parser, url, token)
    except ClientError as exc:
        if exc.exit_code != EXIT_USAGE:
            raise
        hint = (f"pass --token or set {TOKEN_VARIABLE}: the server prints the token at start" if token is None
                else "the server did not accept the token given: check it")
        raise ClientError(f"{exc} ({hint})", exc.exit_code) from None


async def _dispatch(args: argparse.Namespace, parser: argparse.ArgumentParser, url: str, token: str | None) -> int:
    from beerpi.client import requests as commands
    from beerpi.client.session import open_session
    from beerpi.client.watch import watch

    if args.command == "watch":
        return await watch(url, token, args.chamber, args.json, args.timeout)
    if args.command == "set":
        changes = {key: getattr(args, key) for key in ("target", "hysteresis", "mode")
                   if getattr(args, key) is not None}
        if not changes:
            parser.error("set needs at least one of --target, --hysteresis, --mode")
    # What can be checked before connecting is: a typo costs no round trip.
    if args.command == "profile" and args.action == "load":
        steps = load_steps(args.file)
    if args.command == "history":
        try:
            parse_time(args.since, 0.0), parse_time(args.until, 0.0)
        except ValueError as exc:
            parser.error(str(exc))
    if args.command == "batch" and args.action == "note" and args.text is None and args.gravity is None:
        parser.error("batch note needs --text, --gravity, or both")
    async with open_session(url, token, args.timeout) as session:
        if args.command == "batch":
            return await batches.run(session, args, args.timeout, commands._warn)
        if args.command == "set":
            return await commands.set_settings(session, args.chamber, changes, args.timeout, args.json)
        if args.command == "profile":
            if args.action == "load":
                return await commands.change_profile(
                    session, args.chamber, "replace" if args.replace else "start", args.timeout, steps,
                    args.at_step, args.elapsed, args.json)
            return await commands.change_profile(session, args.chamber, args.action, args.timeout,
                                                 as_json=args.json)
        try:
            since, until = parse_time(args.since, session.now), parse_time(args.until, session.now)
        except ValueError as exc:
            parser.error(str(exc))
        output = "csv" if args.csv else "json" if args.json else "table"
        return await commands.history(session, args.probe, since, until, args.points, args.timeout, output)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        from beerpi.client.session import ClientError
    except ImportError:
        print(f"{PROG}: error: the client needs the websockets library: pip install 'beerpi[client]'",
              file=sys.stderr)
        return EXIT_FAILED
    try:
        return asyncio.run(run(args, parser))
    except KeyboardInterrupt:
        return EXIT_OK if args.command == "watch" else EXIT_INTERRUPTED
    except StepsFileError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except ClientError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # Output piped into `head` that has had enough: not an error. Point stdout at
        # /dev/null so Python's flush at exit does not complain a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
