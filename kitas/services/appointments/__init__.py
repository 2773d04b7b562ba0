"""Appointments: the slots an office publishes (slots.py), a case's booking of one (places.py inside a
case's step, booking.py the applicant's and officers' choices, rebooking and cancelling)."""
