"""Assembling a running BeerPi: the service, the rig of probes and outputs, instance locks, gravity to the profiles, systemd."""
