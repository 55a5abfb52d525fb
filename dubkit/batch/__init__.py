"""Many files into many languages: ``dubkit batch`` and ``Dubber.batch`` (see ``runner``)."""
