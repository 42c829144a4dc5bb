"""costbridge's testing kit: pytest fixtures, sandbox helpers and the plugin contract suite.

Installed with the `testing` extra and loaded by pytest through the `pytest11` entry point
(`costbridge_testing.plugin`). Nothing in `core/` imports it.
"""
