"""The public mapping toolkit: pure helpers that several plugins' mappers share.

Plugins may import `core`, `core.contracts`, `core.errors` and this package, nothing else of the
core (tests/test_import_graph.py). Everything here is a pure function over `core.contracts`
values: no session, no ORM, no HTTP, and no plugin's setting keys or kinds.

- `core.mapping.lines`: reading pulled QBO records into candidate actual lines (exact numbers,
  cents, dates, currency, payees, expense lines, the core's own "not billable" exclusion).
- `core.mapping.payloads`: building QBO payloads to push (money, references, the marker,
  items of cost codes, refusals in an admin's words).
"""
