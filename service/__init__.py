"""Front ends and persistence: the CLI, settings, the SQL store and (later) the HTTP service and workers."""
