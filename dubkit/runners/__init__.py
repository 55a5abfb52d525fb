"""Runners drive steps (``dubkit.steps``): ``cached`` for batch jobs (a content-addressed store,
reused across runs and jobs), ``stream`` for live audio (threads and bounded queues)."""
