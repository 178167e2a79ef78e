"""``notifier rescan``, ``reconcile`` and ``dead-letters``: making the audit complete."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Final

import click

from notifier.app import Runtime
from notifier.backfill.dead_letters import list_dead_letters, purge_dead_letters, retry_dead_letters
from notifier.backfill.reconcile import Drift, DriftKind, Reconciler, gone_event
from notifier.backfill.rescan import Rescanner, RescanTally, process_backlog, rescan_event
from notifier.cli.exits import EXIT_FINDINGS, EXIT_UNAVAILABLE
from notifier.cli.progress import Progress
from notifier.config import Settings
from notifier.errors import TransientError
from notifier.export.alerts import alert_drift
from notifier.intake.store import store_events
from notifier.phases import Phase
from notifier.storage import ListedObject, ObjectMissing, ObjectUnreadable

DATETIME_FORMATS: Final = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def target_buckets(settings: Settings, requested: Sequence[str]) -> list[tuple[str, Phase]]:
    """The buckets to work on: those named (each must be mapped), else every mapped one."""
    unknown = [b for b in requested if settings.phase_of(b) is None]
    if unknown:
        mapped = ", ".join(settings.bucket_phases)
        raise click.BadParameter(
            f"{', '.join(unknown)} not in NOTIFIER_BUCKET_MAP (mapped: {mapped})",
            param_hint="--bucket",
        )
    names = list(requested) or list(settings.bucket_phases)
    return [(name, settings.bucket_phases[name]) for name in names]


@contextmanager
def unavailable_exits() -> Iterator[None]:
    try:
        yield
    except TransientError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_UNAVAILABLE) from None
    except ObjectUnreadable as exc:  # e.g. a mapped bucket missing from the store
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(EXIT_FINDINGS) from None


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def register(main: click.Group, loader: Callable[[], Runtime]) -> None:
    """Attach the commands to ``main``; ``loader`` builds the runtime from settings."""

    @main.command()
    @click.option("--bucket", "buckets", multiple=True, help="A mapped bucket (repeatable).")
    @click.option("--prefix", default="", help="Only keys starting with this.")
    @click.option(
        "--since",
        type=click.DateTime(DATETIME_FORMATS),
        default=None,
        help="Only objects modified at or after this time (UTC).",
    )
    @click.option("--dry-run", is_flag=True, help="Report what would be recorded; write nothing.")
    @click.option(
        "--concurrency",
        type=click.IntRange(1, 64),
        default=4,
        show_default=True,
        help="Objects inspected at once (threads per process).",
    )
    @click.option(
        "--processes",
        type=click.IntRange(1, 64),
        default=None,
        help="Processes inspecting objects, one per core (default: NOTIFIER_WORKER_PROCESSES).",
    )
    def rescan(
        buckets: tuple[str, ...],
        prefix: str,
        since: datetime | None,
        dry_run: bool,
        concurrency: int,
        processes: int | None,
    ) -> None:
        """Backfill: record every object that no notification covered.

        Exit status: 0 all recorded; 1 some objects could not be audited (see the
        summary); 2 usage error; 3 store or database unreachable.
        """
        runtime = loader()
        try:
            with unavailable_exits():
                code = _rescan(
                    runtime,
                    buckets,
                    prefix,
                    _utc(since),
                    dry_run,
                    concurrency,
                    processes or runtime.settings.worker_processes,
                )
        finally:
            runtime.close()
        raise SystemExit(code)

    @main.command()
    @click.option("--bucket", "buckets", multiple=True, help="A mapped bucket (repeatable).")
    @click.option("--prefix", default="", help="Only keys starting with this.")
    @click.option("--fix", is_flag=True, help="Record what is missing and mark what is gone.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    @click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
    def reconcile(
        buckets: tuple[str, ...], prefix: str, fix: bool, as_json: bool, concurrency: int
    ) -> None:
        """Compare bucket listings with audit rows: missing rows, gone objects, changed etags.

        Exit status: 0 no drift (or all of it fixed); 1 drift found; 3 store or database
        unreachable.
        """
        runtime = loader()
        try:
            with unavailable_exits():
                code = _reconcile(runtime, buckets, prefix, fix, as_json, concurrency)
        finally:
            runtime.close()
        raise SystemExit(code)

    @main.group("dead-letters")
    def dead_letters() -> None:
        """Bodies notifier could not read: list, retry after a fix, purge."""

    @dead_letters.command("list")
    @click.option("--all", "include_retried", is_flag=True, help="Include retried ones.")
    @click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
    @click.option("--json", "as_json", is_flag=True)
    def list_command(include_retried: bool, limit: int, as_json: bool) -> None:
        """List dead letters waiting for a retry."""
        runtime = loader()
        try:
            with unavailable_exits():
                letters = list_dead_letters(
                    runtime.pool, include_retried=include_retried, limit=limit
                )
        finally:
            runtime.close()
        if as_json:
            click.echo(json.dumps(letters, default=str, indent=2))
            return
        for letter in letters:
            retried = (
                f"  retried {letter['retried_at']:%Y-%m-%d %H:%M}" if letter["retried_at"] else ""
            )
            click.echo(
                f"{letter['id']:>8}  {letter['received_at']:%Y-%m-%d %H:%M:%S}  "
                f"{letter['body_chars']:>7} chars  {letter['reason']}{retried}"
            )
        click.echo(f"{len(letters)} dead letter(s)", err=True)

    @dead_letters.command("retry")
    @click.option("--id", "ids", type=int, multiple=True, help="Only these (repeatable).")
    def retry_command(ids: tuple[int, ...]) -> None:
        """Parse waiting bodies again and store the events they now yield."""
        runtime = loader()
        try:
            with unavailable_exits():
                outcomes = retry_dead_letters(runtime.pool, runtime.settings, ids or None)
        finally:
            runtime.close()
        still = [o for o in outcomes if o.reason is not None]
        for outcome in outcomes:
            verdict = (
                f"still unreadable: {outcome.reason}"
                if outcome.reason
                else (f"stored {outcome.stored} event(s)")
            )
            click.echo(f"{outcome.dead_letter_id:>8}  {verdict}")
        click.echo(
            f"{len(outcomes) - len(still)} recovered, {len(still)} still unreadable", err=True
        )
        raise SystemExit(EXIT_FINDINGS if still else 0)

    @dead_letters.command("purge")
    @click.option(
        "--before",
        type=click.DateTime(DATETIME_FORMATS),
        required=True,
        help="Delete dead letters received before this time (UTC).",
    )
    def purge_command(before: datetime) -> None:
        """Delete old dead letters (audit rows are never deleted)."""
        runtime = loader()
        try:
            with unavailable_exits():
                removed = purge_dead_letters(runtime.pool, _utc(before) or before)
        finally:
            runtime.close()
        click.echo(f"purged {removed} dead letter(s)")


def _rescan(
    runtime: Runtime,
    buckets: Sequence[str],
    prefix: str,
    since: datetime | None,
    dry_run: bool,
    concurrency: int,
    processes: int = 1,
) -> int:
    targets = target_buckets(runtime.settings, buckets)
    rescanner = Rescanner(runtime.pool, runtime.store, runtime.settings.phase_of)
    tally = RescanTally()
    listing = Progress("listed")

    def show_listing(tally: RescanTally) -> None:
        listing.done = tally.listed
        listing.show(new=tally.new, already_audited=tally.already_audited)

    for bucket, _phase in targets:
        rescanner.enqueue(
            bucket,
            prefix=prefix or None,
            since=since,
            dry_run=dry_run,
            tally=tally,
            on_batch=show_listing,
        )
    listing.finish(new=tally.new, already_audited=tally.already_audited)
    if dry_run:
        click.echo(
            f"dry run: {tally.new} object(s) would be recorded, "
            f"{tally.already_audited} already audited, {tally.outside_window} before --since"
        )
        return 0
    processing = Progress("inspected", total=len(tally.event_ids))
    process_backlog(runtime.processor(), concurrency, processing.advance, processes)
    processing.finish()
    summary = rescanner.summarize(tally)
    for name, value in asdict(summary).items():
        click.echo(f"{name.replace('_', ' '):>16}: {value}")
    return EXIT_FINDINGS if summary.errors or summary.pending else 0


def _reconcile(
    runtime: Runtime,
    buckets: Sequence[str],
    prefix: str,
    fix: bool,
    as_json: bool,
    concurrency: int,
) -> int:
    reconciler = Reconciler(runtime.pool, runtime.store)
    rescanner = Rescanner(runtime.pool, runtime.store, runtime.settings.phase_of)
    found: list[Drift] = []
    for bucket, phase in target_buckets(runtime.settings, buckets):
        drifts = reconciler.find(bucket, phase, prefix)
        found.extend(drifts)
        if fix and drifts:
            _repair(runtime, rescanner, bucket, drifts)
    if fix and found:
        process_backlog(runtime.processor(), concurrency)
    if found:
        alert_drift(runtime.pool, runtime.settings.export, found, fixed=fix)
    if as_json:
        click.echo(json.dumps({"fixed": fix, "drift": [d.as_json() for d in found]}, indent=2))
    else:
        _print_drift(found, fix)
    return EXIT_FINDINGS if found and not fix else 0


def _repair(runtime: Runtime, rescanner: Rescanner, bucket: str, drifts: list[Drift]) -> None:
    """Store the events that fix the drift; the workers then record them as any other."""
    events = [gone_event(bucket, d.key) for d in drifts if d.kind is DriftKind.GONE]
    errors = rescanner.retryable_errors(
        bucket, [d.key for d in drifts if d.kind is DriftKind.ERROR]
    )
    for drift in drifts:
        if drift.kind is DriftKind.GONE:
            continue
        try:
            info = runtime.store.stat(bucket, drift.key)
        except ObjectMissing:
            continue  # removed since the listing; its removal event covers it
        listed = ListedObject(
            key=drift.key,
            etag=info.etag,
            size=info.size,
            last_modified=info.last_modified,
            version_id=info.version_id,
        )
        retry_of = errors.get((drift.key, info.etag)) if drift.kind is DriftKind.ERROR else None
        events.append(rescan_event(bucket, listed, retry_of))
    if events:
        store_events(runtime.pool, events, runtime.settings.phase_of)


def _print_drift(found: list[Drift], fixed: bool) -> None:
    if not found:
        click.echo("no drift: every object has its audit row")
        return
    width = max(len(f"s3://{d.bucket}/{d.key}") for d in found)
    click.echo(f"{'kind':<8}  {'object':<{width}}  {'object etag':<36}  audited etag")
    for d in found:
        click.echo(
            f"{d.kind.value:<8}  {f's3://{d.bucket}/{d.key}':<{width}}  "
            f"{d.object_etag or '-':<36}  {d.audited_etag or '-'}"
        )
    counts = {kind: sum(d.kind is kind for d in found) for kind in DriftKind}
    summary = ", ".join(f"{n} {kind.value}" for kind, n in counts.items())
    click.echo(f"{len(found)} drift(s): {summary}" + (" (fixed)" if fixed else ""), err=True)
