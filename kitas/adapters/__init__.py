"""Outbound I/O behind small interfaces: payments, mail, SMS, document storage."""
