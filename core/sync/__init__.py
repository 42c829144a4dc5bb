"""The sync engine: pulls QBO records per realm into actuals, and what plugins share to map them.

`core.sync.lines` is pure (plugins import it); the rest works with the database and the client.
"""
