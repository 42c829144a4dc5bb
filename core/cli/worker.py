"""`costbridge worker|sweep|queue`: the background jobs, from a terminal.

`queue info` reads RQ's queues and registries with costbridge's JSON serializer. RQ's own tools
default to pickle: pointed at costbridge's Redis without `--serializer json` (`rq info -S json`,
`rq requeue -S json ...`) they cannot read our jobs, and tools that save a job back re-save it
as pickle, which the JSON workers and scheduler then fail on.
"""

from __future__ import annotations

import sys

import click

from core.cli.common import JSON
from core.cli.common import dump
from core.cli.common import load_settings
from core.cli.common import runtime

__all__ = ["queue", "sweep", "worker"]


@click.command()
@click.option(
    "--queue", "queue_names", multiple=True, help="Queue to work (repeatable; default all)."
)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--name", help="Worker name shown in the queue view.")
@click.option(
    "--sweep-every",
    default=15.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds between sweeps (re-enqueue pushes and pulls Redis lost); 0 turns them off.",
)
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes to run on this machine (each works one job at a time).",
)
def worker(
    queue_names: tuple[str, ...],
    burst: bool,
    name: str | None,
    sweep_every: float,
    concurrency: int,
) -> None:
    """Run an RQ worker on costbridge's queues (any machine reaching the same Redis and DB).

    SIGTERM lets the job in progress finish and takes no new one; a lost Redis is waited for.
    """
    from core.serve import prepare_process

    prepare_process(load_settings())
    if concurrency > 1:
        from core.jobs.resilience import run_pool

        args = [f"--queue={q}" for q in queue_names] + [f"--sweep-every={sweep_every}"]
        args += ["--burst"] if burst else []
        sys.exit(run_pool(concurrency, args, name=name, restart=not burst))
    from core.jobs import queues
    from core.jobs.resilience import RedisUnreachable
    from core.jobs.worker import run_worker
    from core.runtime import Runtime

    names = [n if n.startswith("costbridge-") else f"costbridge-{n}" for n in queue_names] or list(
        queues.ALL
    )
    unknown = [n for n in names if n not in queues.ALL]
    if unknown:
        raise click.BadParameter(f"unknown queue {unknown[0]}; choose from {', '.join(queues.ALL)}")
    rt = Runtime.build(load_settings())
    try:
        run_worker(rt, names, burst=burst, name=name, sweep_every=sweep_every)
    except RedisUnreachable as exc:
        # Only a burst worker gives up; a long-running one waits for Redis with backoff.
        click.echo(f"costbridge: {exc}; a --burst worker does not wait for it.", err=True)
        sys.exit(1)
    finally:
        rt.close()


@click.command()
def sweep() -> None:
    """Re-enqueue every push and pull Redis may have lost (workers also do this every 15 s)."""
    from core.jobs import push_jobs
    from core.jobs.webhooks import sweep_public
    from core.runtime import install

    with runtime() as rt:
        install(rt)
        try:
            result = push_jobs.sweep()
            public = sweep_public()
        finally:
            install(None)
    outbox, pulls = result["outbox"], result["pulls"]
    click.echo(
        f"costbridge: {outbox['candidates']} waiting push(es) found, "
        f"{outbox['enqueued']} put back on the queue."
    )
    click.echo(
        f"costbridge: {pulls['waiting']} waiting pull(s) found, {pulls['queued']} put back on "
        f"the queue; {pulls['flags_cleared']} stale pull flag(s) cleared."
    )
    click.echo(
        f"costbridge: {public['webhook_changes']} waiting webhook change(s) found, "
        f"{public['webhook_queued']} queued; {public['revokes_tried']} pending revoke(s) tried, "
        f"{public['revokes_confirmed']} confirmed."
    )


@click.group()
def queue() -> None:
    """costbridge's RQ queues (use these, or `rq ... -S json`: never RQ's pickle default)."""


@queue.command("info")
@JSON
def queue_info(as_json: bool) -> None:
    """Jobs per queue and registry, and the workers, read with the JSON serializer."""
    from rq import Worker
    from rq.serializers import JSONSerializer

    from core.jobs import queues

    with runtime() as rt:
        rows = []
        for name in queues.ALL:
            q = queues.queue(name, rt.redis)
            rows.append(
                {
                    "queue": name,
                    "queued": q.count,
                    "started": q.started_job_registry.count,
                    "scheduled": q.scheduled_job_registry.count,
                    "deferred": q.deferred_job_registry.count,
                    "failed": q.failed_job_registry.count,
                    "finished": q.finished_job_registry.count,
                }
            )
        workers = [
            {"name": w.name, "state": str(w.get_state()), "queues": w.queue_names()}
            for w in Worker.all(connection=rt.redis, serializer=JSONSerializer)
        ]
    if as_json:
        dump({"queues": rows, "workers": workers})
        return
    click.echo(f"{'queue':<26} queued started scheduled deferred failed finished")
    for r in rows:
        click.echo(
            f"{r['queue']:<26} {r['queued']:>6} {r['started']:>7} {r['scheduled']:>9} "
            f"{r['deferred']:>8} {r['failed']:>6} {r['finished']:>8}"
        )
    click.echo(f"{len(workers)} worker(s)")
    for w in workers:
        click.echo(f"  {w['name']}  {w['state']}  {', '.join(w['queues'])}")
