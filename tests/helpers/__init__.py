"""Shared test helpers (worlds of elections, stores, servers) imported by the test modules."""
