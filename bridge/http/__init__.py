"""The HTTP API: the app factory, the views, the published contract (openapi.json) and the server."""
