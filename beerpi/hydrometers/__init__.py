"""Floating hydrometers: iSpindel posts, Tilt advertisements and their scanner, the registry of the hydrometers heard."""
