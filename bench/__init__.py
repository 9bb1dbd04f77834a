"""Benchmarks: each module measures a figure, its target and a baseline in the same run.

``python -m bench`` (``make bench``) runs them all and writes ``bench/RESULTS.md``;
``python -m bench NAME ...`` runs some. Benchmarks are not tests: they report, they do not
assert, and a missed target is printed as missed.
"""
