"""Measuring storywatch against gold labels: metrics and the runs that produce what they score.

Used by the tests and the ``bench/`` scripts; nothing in the product imports it (an
import-linter contract says so).
"""
