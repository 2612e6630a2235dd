"""``python -m beerpi``: the ``beerpi`` command (serve by default; see beerpi/cli/main.py)."""

import sys

from beerpi.cli.main import main

sys.exit(main(prog="python -m beerpi"))
