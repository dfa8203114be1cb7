"""Report jobs: a CSV export or a PDF invoice being made in the background, created pending by
the API and completed (or failed) by the reports function. Jobs expire 30 days after they were
created (the table's TTL); the files they point to expire sooner (the bucket's lifecycle).

``create`` is conditional (a job id is never reused); ``complete`` and ``fail`` are conditional
updates of an existing job, and ``fail`` never turns a ready job back: a retried worker that
fails after a first attempt succeeded leaves the file the requester can already fetch.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol

from pynamodb.attributes import (
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PutError, UpdateError
from pynamodb.expressions.update import Action

from tally import tables
from tally.errors import Conflict, NotFound
from tally.models import JobStatus, ReportJob
from tally.settings import Settings
from tally.store import keys
from tally.store.audit import MemoryAuditLog
from tally.store.base import DynamoStore, KeyedItem

KEEP_FOR = timedelta(days=30)
NO_SUCH = "no such report job"
_FAILED_CONDITION = "ConditionalCheckFailedException"


class ReportJobStore(Protocol):
    def create(self, job: ReportJob) -> None:
        """Store a new job; ``Conflict`` if a job of that id exists."""

    def get(self, job_id: str) -> ReportJob | None: ...

    def complete(
        self,
        job_id: str,
        *,
        object_key: str | None,
        rows: int | None,
        details: dict[str, str],
        at: datetime,
    ) -> None:
        """Mark the job ready with its file; ``NotFound`` if there is no such job. A job
        completed again (a retried worker) takes the later file."""

    def fail(self, job_id: str, *, error: str, at: datetime) -> None:
        """Mark the job failed, unless it is ready already (then nothing changes);
        ``NotFound`` if there is no such job."""


def expires(created_at: datetime) -> int:
    """The TTL attribute's value: epoch seconds when the job may go."""
    return int((created_at + KEEP_FOR).timestamp())


class ReportJobItem(KeyedItem):
    """pk JOB#<job id>, sk JOB."""

    spec = tables.REPORTS

    job_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    requester_id = UnicodeAttribute()
    params = JSONAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    object_key = UnicodeAttribute(null=True)
    rows = NumberAttribute(null=True)
    error = UnicodeAttribute(null=True)
    details = JSONAttribute(null=True)
    expires = NumberAttribute()


def _job(item: ReportJobItem) -> ReportJob:
    return ReportJob(
        job_id=item.job_id,
        kind=item.kind,
        requester_id=item.requester_id,
        params=dict(item.params),
        status=JobStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
        object_key=item.object_key,
        rows=None if item.rows is None else int(item.rows),
        error=item.error,
        details=dict(item.details or {}),
    )


def _job_item(job: ReportJob) -> ReportJobItem:
    return ReportJobItem(
        pk=keys.job(job.job_id),
        sk=keys.JOB,
        job_id=job.job_id,
        kind=job.kind,
        requester_id=job.requester_id,
        params=dict(job.params),
        status=job.status.value,
        created_at=job.created_at,
        updated_at=job.updated_at,
        object_key=job.object_key,
        rows=job.rows,
        error=job.error,
        details=dict(job.details) or None,
        expires=expires(job.created_at),
    )


class DynamoReportJobStore(DynamoStore):
    def create(self, job: ReportJob) -> None:
        try:
            _job_item(job).save(condition=ReportJobItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                raise Conflict(f"report job {job.job_id} exists") from error
            raise

    def get(self, job_id: str) -> ReportJob | None:
        try:
            return _job(ReportJobItem.get(keys.job(job_id), keys.JOB, consistent_read=True))
        except ReportJobItem.DoesNotExist:
            return None

    def complete(
        self,
        job_id: str,
        *,
        object_key: str | None,
        rows: int | None,
        details: dict[str, str],
        at: datetime,
    ) -> None:
        item = ReportJobItem(pk=keys.job(job_id), sk=keys.JOB)
        actions: list[Action] = [
            ReportJobItem.status.set(JobStatus.READY.value),
            ReportJobItem.object_key.set(object_key)
            if object_key
            else ReportJobItem.object_key.remove(),
            ReportJobItem.updated_at.set(at),
            ReportJobItem.error.remove(),
            ReportJobItem.rows.set(rows) if rows is not None else ReportJobItem.rows.remove(),
            ReportJobItem.details.set(dict(details)) if details else ReportJobItem.details.remove(),
        ]
        try:
            item.update(actions, condition=ReportJobItem.pk.exists())
        except UpdateError as error:
            if error.cause_response_code == _FAILED_CONDITION:
                raise NotFound(NO_SUCH) from error
            raise

    def fail(self, job_id: str, *, error: str, at: datetime) -> None:
        item = ReportJobItem(pk=keys.job(job_id), sk=keys.JOB)
        actions: list[Action] = [
            ReportJobItem.status.set(JobStatus.FAILED.value),
            ReportJobItem.error.set(error),
            ReportJobItem.updated_at.set(at),
        ]
        try:
            item.update(
                actions,
                condition=ReportJobItem.pk.exists()
                & (ReportJobItem.status != JobStatus.READY.value),
            )
        except UpdateError as failure:
            if failure.cause_response_code != _FAILED_CONDITION:
                raise
            if self.get(job_id) is None:
                raise NotFound(NO_SUCH) from failure
            # Ready already: the file stands.


class MemoryReportJobStore:
    def __init__(self) -> None:
        self.jobs: dict[str, ReportJob] = {}

    def create(self, job: ReportJob) -> None:
        if job.job_id in self.jobs:
            raise Conflict(f"report job {job.job_id} exists")
        self.jobs[job.job_id] = replace(job, params=dict(job.params), details=dict(job.details))

    def get(self, job_id: str) -> ReportJob | None:
        return self.jobs.get(job_id)

    def complete(
        self,
        job_id: str,
        *,
        object_key: str | None,
        rows: int | None,
        details: dict[str, str],
        at: datetime,
    ) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(NO_SUCH)
        self.jobs[job_id] = replace(
            job,
            status=JobStatus.READY,
            object_key=object_key,
            rows=rows,
            details=dict(details),
            error=None,
            updated_at=at,
        )

    def fail(self, job_id: str, *, error: str, at: datetime) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            raise NotFound(NO_SUCH)
        if job.status != JobStatus.READY:
            self.jobs[job_id] = replace(job, status=JobStatus.FAILED, error=error, updated_at=at)


def dynamodb_store(settings: Settings) -> ReportJobStore:
    return DynamoReportJobStore(settings)


def memory_store(audit: MemoryAuditLog) -> ReportJobStore:
    return MemoryReportJobStore()
