"""The ``beerpi`` command: ``serve`` (the default), ``export``, ``copy``, ``release``, ``token``, ``hub``.

``run_server.py`` and ``python -m beerpi`` reach the same commands. Without a command the
arguments are the server's, so ``beerpi --port 8080`` keeps working.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

COMMANDS: dict[str, str] = {
    "serve": "run the controller and its web server (the default; beerpi serve --help)",
    "export": "write stored readings as CSV (beerpi export --help)",
    "copy": "copy a whole history from one database to another (beerpi copy --help)",
    "release": "drive every configured relay OFF without starting the server (after a crash)",
    "token": "print the control token and the links to open",
    "hub": "store every Pi's readings and events from an MQTT broker into one database (beerpi hub --help)",
}


def usage(prog: str) -> str:
    lines = [f"usage: {prog} [COMMAND] [OPTIONS]", "", "BeerPi fermentation controller.", "", "commands:"]
    lines += [f"  {name:<8} {text}" for name, text in COMMANDS.items()]
    lines += ["", f"Without a command, {prog} serves: '{prog} --help' is '{prog} serve --help'."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, prog: str = "beerpi") -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and not argv[0].startswith("-") else "serve"
    rest = argv[1:] if argv and argv[0] == command else argv
    if command in ("help", "commands"):
        print(usage(prog))
        return 0
    runner = _runner(command)
    if runner is None:
        print(f"{prog}: error: unknown command {command!r}\n\n{usage(prog)}", file=sys.stderr)
        return 2
    return runner(rest, f"{prog} {command}" if command != "serve" or argv[:1] == ["serve"] else prog)


def _runner(command: str) -> Callable[[Sequence[str], str], int] | None:
    if command == "serve":
        from beerpi.base.stop_signals import catch_stop_signals
        catch_stop_signals()  # before the server's imports: a stop while starting is handled
        from beerpi.cli.serve import main as serve
        return lambda args, prog: serve(args, prog=prog)
    if command in ("export", "copy"):
        from beerpi.cli.data import main as tools
        return lambda args, prog: tools([command, *args], prog=prog.rsplit(" ", 1)[0])
    if command == "release":
        from beerpi.cli.release import main as release
        return lambda args, prog: release(args, prog=prog)
    if command == "token":
        from beerpi.cli.token import main as token
        return lambda args, prog: token(args, prog=prog)
    if command == "hub":
        from beerpi.base.stop_signals import catch_stop_signals
        catch_stop_signals()  # before the hub's imports: a stop while starting is handled
        from beerpi.cli.hub import main as hub
        return lambda args, prog: hub(args, prog=prog)
    return None
