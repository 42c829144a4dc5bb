"""Pushing local records to QBO: recording changes (outbox), mapping helpers, delivery."""
