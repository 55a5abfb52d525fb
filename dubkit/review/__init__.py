"""Review and edit a dub in the browser: ``dubkit review`` (``server``), over a job folder
(``session``)."""
