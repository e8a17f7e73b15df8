"""Printers, ticket rendering, QR and voice. Imports nothing from the web layer."""
