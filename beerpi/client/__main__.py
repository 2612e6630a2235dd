"""``python -m beerpi.client``: see ``python -m beerpi.client --help``."""

import sys

from .cli import main

sys.exit(main())
