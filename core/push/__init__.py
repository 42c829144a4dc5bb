"""Pushing local records to QBO, one straight path: recording -> outbox -> delivery.

Recording (inside the caller's transaction):
    records    create, edit and delete bills, invoices, time entries and files
    outbox     `record_change`: the outbox row and its idempotency key; support's calls
    kinds      the push kinds plugins declare (kind, local record, QBO entity, toggles)
    readers    the core's local record readers: ORM row -> the frozen value a mapper sees

Queueing (after the commit):
    queueing   a job per row, lead jobs of batched creates, the sweeper, resume on reconnect

Delivery (a push job, `core.jobs.push_jobs.push_outbox`, calls `run.deliver_row`):
    run        claim, deliver alone or in a batch, settle; drain further batches
    leases     claims under a lease a heartbeat renews
    prepare    what to send, or why nothing is sent (toggles, closed books, ...)
    deliver    single sends: create or upload, edit with SyncToken, delete; the payload comes
               from the plugin declaring the row's kind
    batch      up to 30 fresh creates in one QBO batch
    locate     finding an earlier attempt in QBO by its marker (unknown outcomes)
    settle     each row's outcome and run, and the writes that waited behind it
    outcome    how a delivery ended, and which errors end it in which state
    targets    which QBO record a refused write points at (an inactive item, a deleted vendor)

Support (after delivery):
    causes     failures grouped by root cause and the record they point at; re-send a group
"""
