"""Use cases. Each public service function owns its transaction: services are the only place that commits."""
