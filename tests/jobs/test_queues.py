"""`queues.enqueue` on real Redis: an id held by a job that ended is queued again."""

from __future__ import annotations

import pytest
from rq import SimpleWorker
from rq.job import Job
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from core.jobs import queues

JOB_ID = "maintenance-job-1"


def succeed() -> str:
    return "done"


def fail() -> None:
    raise RuntimeError("this job fails")


def _enqueue(redis, func=succeed):
    return queues.enqueue(redis, queues.MAINTENANCE, func, job_id=JOB_ID, kwargs={}, retry=None)


def _work(redis):
    SimpleWorker(
        [queues.queue(queues.MAINTENANCE, redis)], connection=redis, serializer=JSONSerializer
    ).work(burst=True)


def _finished(redis):
    _enqueue(redis)
    _work(redis)


def _failed(redis):
    _enqueue(redis, fail)
    _work(redis)


def _cancelled(redis):
    _enqueue(redis).cancel()


def _stopped(redis):
    # What RQ's stop command (`rq.command.send_stop_job_command`) leaves: status "stopped".
    job = _enqueue(redis)
    queues.queue(queues.MAINTENANCE, redis).remove(job)
    job.set_status(JobStatus.STOPPED)


@pytest.mark.parametrize(
    ("end", "status"),
    [
        (_finished, JobStatus.FINISHED),
        (_failed, JobStatus.FAILED),
        (_cancelled, JobStatus.CANCELED),
        (_stopped, JobStatus.STOPPED),
    ],
)
def test_an_id_held_by_a_job_that_ended_is_queued_again(redis_conn, end, status):
    end(redis_conn)
    assert Job.fetch(JOB_ID, redis_conn, JSONSerializer).get_status() == status
    job = _enqueue(redis_conn)
    assert job is not None
    assert job.get_status() == JobStatus.QUEUED
    assert queues.queue(queues.MAINTENANCE, redis_conn).get_job_ids() == [JOB_ID]
    _work(redis_conn)
    assert Job.fetch(JOB_ID, redis_conn, JSONSerializer).get_status() == JobStatus.FINISHED


def test_an_id_held_by_a_queued_job_is_already_queued(redis_conn):
    assert _enqueue(redis_conn) is not None
    assert _enqueue(redis_conn) is None
    assert queues.queue(queues.MAINTENANCE, redis_conn).get_job_ids() == [JOB_ID]


def test_an_id_held_by_a_scheduled_retry_is_already_queued(redis_conn):
    from rq import Retry

    queues.enqueue(
        redis_conn,
        queues.MAINTENANCE,
        fail,
        job_id=JOB_ID,
        kwargs={},
        retry=Retry(max=1, interval=[600]),
    )
    _work(redis_conn)
    assert Job.fetch(JOB_ID, redis_conn, JSONSerializer).get_status() == JobStatus.SCHEDULED
    assert _enqueue(redis_conn) is None


def test_only_a_job_that_ended_is_deleted_to_free_its_id(redis_conn):
    _enqueue(redis_conn)
    assert queues.free_if_ended(redis_conn, JOB_ID) is False
    assert queues.is_live(redis_conn, JOB_ID)
    _work(redis_conn)
    assert not queues.is_live(redis_conn, JOB_ID)
    assert queues.free_if_ended(redis_conn, JOB_ID) is True
    assert queues.free_if_ended(redis_conn, "no-such-job") is True
