"""The queue dispatches a job only once the transaction really commits."""

import pytest

from app.jobs import enqueue

CALLS: list[int] = []


def remember(value: int) -> None:
    CALLS.append(value)


@pytest.fixture(autouse=True)
def _calls():
    CALLS.clear()
    yield
    CALLS.clear()


def test_a_job_runs_after_the_commit_not_before(db):
    enqueue("tests.test_jobs.remember", 1)
    assert CALLS == []
    db.session.commit()
    assert CALLS == [1]


def test_releasing_a_savepoint_is_not_the_commit(db):
    enqueue("tests.test_jobs.remember", 2)
    with db.session.begin_nested():
        pass
    assert CALLS == []
    db.session.commit()
    assert CALLS == [2]


def test_rolling_back_to_a_savepoint_keeps_the_jobs_of_the_transaction(db):
    enqueue("tests.test_jobs.remember", 3)
    savepoint = db.session.begin_nested()
    savepoint.rollback()
    db.session.commit()
    assert CALLS == [3]


def test_a_rolled_back_transaction_runs_nothing(db):
    from tests.factories import make_client

    make_client()  # the transaction has begun, as in any request that enqueues
    enqueue("tests.test_jobs.remember", 4)
    db.session.rollback()
    db.session.commit()
    assert CALLS == []


def test_an_unknown_queue_is_refused(db):
    with pytest.raises(ValueError):
        enqueue("tests.test_jobs.remember", 5, queue="nowhere")
