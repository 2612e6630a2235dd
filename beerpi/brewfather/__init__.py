"""Brewfather's custom stream (``--brewfather URL``): each chamber's open batch, posted to the
brewing log most homebrewers keep, at the rate Brewfather takes (see docs/brewfather.md)."""
