"""Prefect 3 flows: they order the steps and hold no logic of their own.

- ``replay``: archived articles -> store -> detect -> deliver;
- ``poll``: one polling round, and replay of a poll's WARC capture;
- ``overdue``: threads whose window passed on the wall clock;
- ``schedule``: the deployments `storywatch serve` runs;
- ``steps``: the plain functions the tasks call, free of Prefect;
- ``summaries``: what each flow returns;
- ``runtime``: how storywatch runs Prefect (telemetry off, quiet logs), set before Prefect loads.

Importing this package imports nothing: Prefect is loaded only by the flow modules.
"""
