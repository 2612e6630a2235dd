"""The Tornado server: the page and the WebSocket, the clients and the broadcast, server-sent events, connections, hosts, health, the HTTP API."""
