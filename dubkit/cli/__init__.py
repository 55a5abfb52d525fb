"""The ``dubkit`` command: a thin layer of click commands over the Python API."""
