"""The analysts' studio: drafts, lint, form and decision-table editing, trial, review and deployment.

It talks to the engine only through ``engine``'s public functions and to versions through
``services.deployments``."""
