"""Talking to the database: URLs, connections, locks and the catalog snapshot."""
