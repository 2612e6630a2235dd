"""The hardware behind small interfaces: ``Probe`` and ``Heater``, DS18B20 probes on the 1-wire bus, a relay on a GPIO pin, pins at boot."""
