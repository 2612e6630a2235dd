"""Simulated hardware, a first-class implementation of the hardware interfaces: physics, a chamber, a fermenter, fault plans, soak hooks."""
