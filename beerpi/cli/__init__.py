"""The ``beerpi`` command and each of its subcommands."""
