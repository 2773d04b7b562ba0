"""The scheduler process and what it runs."""
