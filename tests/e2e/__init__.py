"""End-to-end tests: the real application on a live server, driven by headless chromium."""
