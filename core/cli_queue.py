"""`costbridge queue info`: RQ's queues and registries, read with costbridge's JSON serializer.

RQ's own tools default to pickle. Pointed at costbridge's Redis without `--serializer json`
(`rq info -S json`, `rq requeue -S json ...`) they cannot read our jobs, and tools that save a
job back re-save it as pickle, which the JSON workers and scheduler then fail on. This command
reads the same figures safely; for anything else, always pass `-S json` to `rq`.
"""

from __future__ import annotations

import json

import click
from rq import Worker
from rq.serializers import JSONSerializer

__all__ = ["queue"]


@click.group()
def queue() -> None:
    """costbridge's RQ queues (use these, or `rq ... -S json`: never RQ's pickle default)."""


@queue.command("info")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def queue_info(as_json: bool) -> None:
    """Jobs per queue and registry, and the workers, read with the JSON serializer."""
    from core.cli import _settings
    from core.jobs import queues
    from core.runtime import Runtime

    rt = Runtime.build(_settings())
    try:
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
    finally:
        rt.close()
    if as_json:
        click.echo(json.dumps({"queues": rows, "workers": workers}, indent=2))
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
