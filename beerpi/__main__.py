"""``python -m beerpi``: the ``beerpi`` command (serve by default; see beerpi/console.py)."""

import sys

from .console import main

sys.exit(main(prog="python -m beerpi"))
