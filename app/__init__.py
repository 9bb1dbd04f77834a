"""Throughline's service: store, sync jobs, API, pages and the command line."""
