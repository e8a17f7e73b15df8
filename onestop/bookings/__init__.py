"""Bookings (lịch hẹn) and numbers taken from a phone (issue 20): the model in ``models``,
a field's booking settings in ``settings``, every rule in ``engine``."""
