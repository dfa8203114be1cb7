"""``make ingest``: run the ingest job against the running local stack, with a progress bar.

    make ingest                                  # the scheduled window (restatement window)
    make ingest START=2026-10-01 END=2026-11-01  # a backfill; END is exclusive, like Cost Explorer
    make ingest FOCUS=path/to/export.csv         # any FOCUS file, uploaded to the export bucket;
                                                 # replaces every day of its billing periods

It runs the same handler code EventBridge Scheduler invokes in AWS, in this process, with the
environment the running stack wrote to ``.tally/local.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from infra.local.stack import DEFAULT_LOCAL_JSON


class ProgressBar:
    """One line on stderr per stage, rewritten in place: ``read 120,000 lines``,
    ``allocate 12``, ``upload 3``, then ``batches [######....] 10/40``."""

    STAGES = {"read": "lines read", "allocate": "slices allocated", "upload": "partitions written"}

    def __init__(self, label: str, width: int = 30) -> None:
        self.label = label
        self.width = width
        self.started = time.monotonic()
        self._stage: str | None = None

    def _write(self, text: str, *, stage: str) -> None:
        if self._stage is not None and stage != self._stage:
            sys.stderr.write("\n")
        self._stage = stage
        elapsed = time.monotonic() - self.started
        sys.stderr.write(f"\r{self.label} {text} {elapsed:5.1f}s")
        sys.stderr.flush()

    def __call__(self, stage: str, count: int) -> None:
        self._write(f"{count:,} {self.STAGES.get(stage, stage)}", stage=stage)

    def batches(self, done: int, total: int) -> None:
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        self._write(f"batches [{bar}] {done}/{total}", stage="batches")

    def end(self) -> None:
        if self._stage is not None:
            sys.stderr.write("\n")
            sys.stderr.flush()


def load_stack(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise SystemExit(f"no local stack: {path} is missing. Start one with `make run` first.")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=date.fromisoformat, help="first UTC day (YYYY-MM-DD)")
    parser.add_argument("--end", type=date.fromisoformat, help="day after the last (exclusive)")
    parser.add_argument("--focus", type=Path, help="a FOCUS 1.x export (CSV or Parquet) to ingest")
    parser.add_argument(
        "--local-json",
        type=Path,
        default=Path(os.environ.get("TALLY_LOCAL_JSON") or DEFAULT_LOCAL_JSON),
    )
    args = parser.parse_args(argv)
    if args.end and not args.start:
        parser.error("--end needs --start")

    stack = load_stack(args.local_json)
    os.environ.update(stack["env"])
    # The job's own INFO lines are JSON for CloudWatch; here the bar and the summary speak.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from ingest.handler import resolve_job, run_job
    from ingest.settings import IngestSettings
    from tally.clock import utc_today

    today = utc_today()  # the one clock: TALLY_TODAY, here or in the stack's env, pins it
    event: dict[str, Any] = {}
    if args.start:
        event["start"] = args.start.isoformat()
        if args.end:
            event["end"] = args.end.isoformat()
    if args.focus:
        if not args.focus.is_file():
            parser.error(f"{args.focus} is not a file")
        if not args.start:
            # Read before the upload: a file that is not FOCUS never reaches the bucket the
            # schedule reads. The Lambda works out the same window for a file without dates.
            first, end = file_window(args.focus)
            event["start"], event["end"] = first.isoformat(), end.isoformat()
        import boto3

        bucket = stack["env"]["TALLY_EXPORT_BUCKET"]
        key = f"focus/manual/{args.focus.name}"
        s3 = boto3.client("s3", endpoint_url=stack["aws_endpoint_url"], region_name=stack["region"])
        s3.upload_file(str(args.focus), bucket, key)
        print(f"uploaded {args.focus} to s3://{bucket}/{key}", file=sys.stderr)
        event["focus"] = {"bucket": bucket, "key": key}
    settings = IngestSettings.load()  # as the Lambda reads it
    try:
        job = resolve_job(
            event,
            today=today,
            restatement_days=settings.restatement_days,
            export_bucket=settings.export_bucket,
        )
    except ValueError as error:
        parser.error(str(error))
    print(f"ingesting {job.start} .. {job.end} (end exclusive)", file=sys.stderr)
    bar = ProgressBar("ingest")
    # The handlers' own output (their metrics are JSON lines on stdout, as in Lambda) goes to
    # stderr: stdout carries the run's summary alone, for whoever reads it.
    with contextlib.redirect_stdout(sys.stderr):
        detail = run_job(job, progress=bar)
        if "dispatched" in detail:  # fanned out over the stack's queue: work it, then report
            detail = finish_run(detail["runId"], bar, stack)
    bar.end()
    print(
        json.dumps(
            {
                k: detail[k]
                for k in ("start", "end", "records", "owners", "months", "totals", "restatements")
            },
            indent=2,
        )
    )
    return 0


def finish_run(run_id: str, bar: ProgressBar, stack: dict[str, Any]) -> dict[str, Any]:
    """Work the batches queue until the run is finalized: the worker function's code, as
    Lambda's event source calls it (``infra.local.ingest_workers``). A running stack's own
    worker may take some of the messages: the run's state, not this loop, says when it is
    done. Returns the ``CostsIngested`` detail the run announced."""
    import boto3

    from infra.local.ingest_workers import drain_run

    sqs = boto3.client("sqs", endpoint_url=stack["aws_endpoint_url"], region_name=stack["region"])
    return drain_run(
        run_id,
        sqs=sqs,
        queue_url=stack["env"]["TALLY_INGEST_QUEUE_URL"],
        region=stack["region"],
        progress=bar.batches,
    )


def file_window(path: Path) -> tuple[date, date]:
    """The UTC days ``[start, end)`` a FOCUS file replaces: every day of its billing periods
    (its charge days when it has no billing-period columns)."""
    from tally.sources import SourceFormatError
    from tally.sources.focus import FocusSource

    try:
        return FocusSource.from_path(path).billing_window()
    except SourceFormatError as error:
        raise SystemExit(f"{path}: {error}") from None


if __name__ == "__main__":
    sys.exit(main())
