"""Alerts: when to tell the brewer (pure rules), wired to what the server sees, sent through Apprise."""
