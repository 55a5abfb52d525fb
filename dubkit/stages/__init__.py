"""The steps of a dubbing job, one module per kind of work, run in order by
``dubkit.pipeline.DubbingPipeline``. Each step reads and writes through a ``JobContext``."""
