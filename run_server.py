#!/usr/bin/env python3
"""Start BeerPi: ``python run_server.py --help`` explains the options."""

import sys

from beerpi.cli import main

if __name__ == "__main__":
    sys.exit(main())
