"""Configuration: defaults, command-line flags and BEERPI_* environment variables,
resolved once into a frozen Config that the rest of the code receives.

``defaults.py`` holds the Config dataclass, ``converters.py`` turns an option's text into its
value, ``options.py`` defines every flag with its help, and ``resolve.py`` resolves defaults <
environment < command line and checks the options against each other.
"""

from beerpi.config.defaults import REAL_DB, SIMULATION_DB, Config, default_db, with_default_db
from beerpi.config.options import SERVE_DESCRIPTION, build_parser
from beerpi.config.resolve import CHAMBER_OPTIONS, ENV_PREFIX, OTHER_VARIABLES, parse_config

__all__ = ["CHAMBER_OPTIONS", "ENV_PREFIX", "OTHER_VARIABLES", "REAL_DB", "SERVE_DESCRIPTION", "SIMULATION_DB",
           "Config", "build_parser", "default_db", "parse_config", "with_default_db"]
