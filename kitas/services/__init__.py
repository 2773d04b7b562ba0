"""Use cases, one package per capability; each public function owns its transaction (services are the
only place that commits). cases/ (the case unit of work and everything done to a case), accounts/,
audit/, deployments/, documents/, incidents/ (failures that need a person), payments/, notifications/,
permits/ (the e-permit and its public check),
sandbox_bank/ (the simulated provider);
leases.py (retried queues), catalog.py (the catalog as pages read it), public_address.py, health.py; errors.py and
paging.py are shared by all. A capability calls another only through its public names."""
