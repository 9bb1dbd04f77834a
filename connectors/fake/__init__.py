"""Fake trackers: faithful, deterministic ASGI imitations of Jira and Asana.

They are part of the product: the integration tests, the benchmarks and the demo all point
real connectors at them over real HTTP.
"""
