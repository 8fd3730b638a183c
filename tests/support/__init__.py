"""Helpers shared by the test suite: database servers, fresh databases, running the CLI."""
