"""BeerPi: a fermentation controller for the Raspberry Pi."""

__version__ = "0.1.0"
