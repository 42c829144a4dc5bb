"""The sync engine: pulls QBO records per realm, maps them through the owning plugins, writes them.

Everything here works with the database and the client; what plugins share to map records is
the public, pure toolkit `core.mapping`.
"""
