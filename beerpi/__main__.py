"""``python -m beerpi``: the same as ``python run_server.py``; ``python -m beerpi export``
and ``python -m beerpi copy`` are the data tools (see beerpi/tools.py)."""

import sys

TOOLS = ("export", "copy")

if len(sys.argv) > 1 and sys.argv[1] in TOOLS:
    from .tools import main as tools_main

    sys.exit(tools_main(sys.argv[1:], prog="python -m beerpi"))

from .cli import main  # noqa: E402

sys.exit(main(prog="python -m beerpi"))
