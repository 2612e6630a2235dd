"""A stand-in for the RPi package, holding the recording fake of RPi.GPIO."""
