"""BeerPi on an MQTT broker: the connection, topics and commands, Home Assistant discovery."""
