"""Pure decisions: a chamber's settings, thermostat, safety invariants, plausibility, faults, profiles and their clock. No I/O, no threads."""
