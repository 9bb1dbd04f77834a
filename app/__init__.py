"""Throughline's service. Packages, top to bottom (each imports only those below it):
``cli``/``demo`` → ``web`` → ``runtime`` → ``reports``/``webhooks`` → ``sync`` →
``programs`` → ``store`` → ``render``/``telemetry`` → ``config``."""
