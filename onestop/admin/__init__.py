"""The back office (admin and manager pages). For now: the printers' status page."""
