"""Batches: a brew in a chamber (a named window over its series), the notes on its timeline,
and the gravity arithmetic (OG, FG, apparent attenuation, ABV). Pure: no I/O."""
