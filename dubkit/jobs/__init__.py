"""Job folders: project.json, the content-addressed stage cache, atomic writes."""
