"""The ground floor: errors, the wall clock's trust, the log flood guard, TOML field readers, time and number parsing, stop signals. Imports nothing of BeerPi's."""
