"""onestop: kiosk and queue-ticketing for Vietnamese public administrative service centres."""

__version__ = "0.1.0"
