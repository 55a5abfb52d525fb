"""Helpers for tests and demos: tiny random models that load through the real loaders."""
