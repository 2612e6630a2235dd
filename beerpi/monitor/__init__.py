"""The monitor thread: one ``step()`` per tick (sample, decide, switch, store, publish), its probe reads, chamber changes, work queue and watchdog."""
