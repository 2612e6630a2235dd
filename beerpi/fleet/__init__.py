"""Many Pis, one brewery: each Pi dials out to an MQTT broker, a hub stores every Pi's data
and controls them back (see docs/hub.md).

``wire`` is the topics and messages both sides speak and ``chain`` the acknowledgement rule,
both without I/O; the Pi's side and the hub's side build on them.
"""
