"""RQ plumbing: named queues, id-only job functions, the worker and the outbox sweeper."""
