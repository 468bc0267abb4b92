"""`flask --app wsgi blason ...` commands; they call services like the API does."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from app import migrate
from app.db import db
from app.runtime import runtime

blason = AppGroup("blason", help="Blason administration commands.")


@blason.command("upgrade-db")
def upgrade_db() -> None:
    """Apply the database migrations."""
    assert db.engine is not None
    migrate.upgrade(db.engine)
    click.echo("Database schema is up to date.")


@blason.command("load-demo")
def load_demo_command() -> None:
    """Load the French demo data set (idempotent)."""
    _load_demo()


def _load_demo() -> None:
    from app.demo import load_demo

    rt = runtime()
    logins = load_demo(
        db.session, passwords=rt.passwords, password=rt.settings.demo_password, storage=rt.storage, issuing=rt.issuing
    )
    db.session.commit()
    click.echo("Demo accounts (password: %s):" % rt.settings.demo_password)
    for login in logins:
        click.echo(f"  - {login.name:<18} {login.email or '(no e-mail)':<32} {login.role}")


@blason.command("audit-verify")
@click.option(
    "--signed-head",
    "signed_head",
    type=click.Path(exists=True, dir_okay=False),
    help="A head exported by audit-sign-head: the chain must still hold it.",
)
def audit_verify(signed_head: str | None) -> None:
    """Check the audit log's hash chain from its first event to its last, and its signed heads."""
    from app.services.identity.audit import verify_chain
    from app.services.identity.audit_heads import BadSignedHead, check_head, read_signed_head, verify_stored_heads

    report = verify_chain(db.session)
    if not report.ok:
        click.echo(
            f"Audit chain BROKEN at event {report.first_bad_seq}: {report.reason} "
            f"({report.count} events verified before it).",
            err=True,
        )
        sys.exit(1)
    public = runtime().platform_key.public
    stored = verify_stored_heads(db.session, public, report.count)
    problem = stored.problem
    if problem is None and signed_head:
        try:
            claims = read_signed_head(Path(signed_head).read_text(encoding="utf-8", errors="replace"), public)
        except BadSignedHead as exc:
            click.echo(f"Signed head {signed_head} REFUSED: {exc}.", err=True)
            sys.exit(1)
        problem = check_head(db.session, claims, report.count)
    if problem:
        click.echo(f"Audit chain BROKEN: {problem}.", err=True)
        sys.exit(1)
    click.echo(
        f"Audit chain intact: {report.count} events; {stored.checked} signed head(s) hold"
        + (f" ({stored.other_key} signed with an earlier platform key, not checked)" if stored.other_key else "")
        + (f"; the signed head {signed_head} holds" if signed_head else "")
        + "."
    )


@blason.command("audit-sign-head")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the signed head to this file (default: print it).",
)
def audit_sign_head(out_path: str | None) -> None:
    """Sign the audit chain's current head with the platform key; keep the file away from the database."""
    import json

    from app.services.identity.audit_heads import export, sign_head

    rt = runtime()
    head = sign_head(db.session, rt.platform_key, clock=rt.clock)
    if head is None:
        click.echo("The audit chain is empty: nothing to sign.", err=True)
        sys.exit(1)
    db.session.commit()
    text = json.dumps(export(head), indent=2) + "\n"
    if not out_path:
        click.echo(text, nl=False)
        return
    Path(out_path).write_text(text, encoding="utf-8")
    click.echo(
        f"Signed head of event {head.seq} (hash {head.hash}, signed {head.signed_at.isoformat()}) "
        f"written to {out_path}."
    )


@blason.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create a platform administrator."""
    from app.models import Membership, Person, Role, ScopeType
    from app.services.identity import audit

    if len(password) < 12:
        raise click.BadParameter("at least 12 characters", param_hint="password")
    person = Person(display_name=name, email=email.lower(), password_hash=runtime().passwords.hash(password))
    db.session.add(person)
    db.session.flush()
    db.session.add(Membership(person_id=person.id, role=Role.PLATFORM_ADMIN, scope_type=ScopeType.PLATFORM))
    audit.record(db.session, None, "membership.granted", "person", person.id, {"role": "platform_admin"})
    db.session.commit()
    click.echo(f"Platform administrator {email} created.")


@blason.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--demo/--no-demo", default=True, help="Load the demo data set first.")
@click.option(
    "--with-worker/--no-worker", default=True, help="Also run a job worker (`blason worker`) beside the server."
)
def serve(host: str, port: int, demo: bool, with_worker: bool) -> None:
    """Migrate, load the demo data and serve (development server), with a job worker."""
    assert db.engine is not None
    migrate.upgrade(db.engine)
    if demo:
        _load_demo()
    settings = runtime().settings
    click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
    click.echo(f"Files:    {settings.storage_url or settings.storage_dir}")
    click.echo(f"Blason listens on http://{host}:{port}/  (API docs: http://{host}:{port}/api/v1/docs)")
    if demo:
        click.echo(f"Sign in at http://{host}:{port}/connexion with a demo account above.")
    from flask import current_app
    from werkzeug.serving import run_simple

    worker = _start_worker() if with_worker else None
    try:
        # app.run() refuses to start inside a flask CLI command; the same server, called directly.
        run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]
    finally:
        if worker is not None:
            _stop_worker(worker)


def _start_worker():  # type: ignore[no-untyped-def]
    """`blason worker` in a child process of the same app (Ctrl-C reaches both: one process group)."""
    import subprocess

    from flask.cli import ScriptInfo

    info = click.get_current_context().ensure_object(ScriptInfo)
    command = [sys.executable, "-m", "flask", "--app", info.app_import_path or "wsgi", "blason", "worker"]
    child = subprocess.Popen(command)
    click.echo(f"Job worker started (process {child.pid}); more: flask --app wsgi blason worker")
    return child


def _stop_worker(child) -> None:  # type: ignore[no-untyped-def]
    """Let the worker finish its job after Ctrl-C (it got the signal too); stop it if it lingers."""
    import signal
    import subprocess

    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.terminate()
        child.wait(timeout=10)


@blason.command("worker")
@click.option("--workers", "-w", default=1, show_default=True, help="Jobs run at once by this process (threads).")
@click.option("--once", is_flag=True, help="Run the jobs waiting now, then stop.")
@click.option("--poll", default=2.0, show_default=True, help="Longest wait between looks at a SQLite queue, seconds.")
def worker_command(workers: int, once: bool, poll: float) -> None:
    """Run background jobs (imports, bulk awards, dossiers) until Ctrl-C; start as many as needed.

    Marks failed, first, the jobs whose worker died (no heartbeat for BLASON_JOB_HEARTBEAT_TIMEOUT).
    On SQLite keep one worker of one thread (one writer at a time); on Redis and PostgreSQL start
    workers on any machine that shares the database, the queue and the storage.
    """
    from flask import current_app

    from app.worker import queue_of, reap, settle_process

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    settings = runtime().settings
    for job_id in reap(app):
        click.echo(f"Job {job_id}: its worker had stopped; marked failed.")
    queue = queue_of(app)
    settle_process()
    if once:
        click.echo(f"{queue.drain()} job(s) run.")
        return
    where = "Redis" if (settings.queue_url or "").startswith(("redis", "unix")) else "SQLite"
    click.echo(
        f"Job worker: queue {settings.queue_name!r} on {where}, {workers} thread(s), "
        f"heartbeat timeout {settings.job_heartbeat_timeout:g} s. Ctrl-C stops it after the current job."
    )
    consumer = queue.huey.create_consumer(workers=workers, worker_type="thread", periodic=True, max_delay=poll)
    consumer.run()


@blason.command("import-framework")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["rncp-xml", "rncp-csv", "esco-csv", "case-json", "custom-csv", "custom-json"]),
    help="Skip detection (applies to every file).",
)
@click.option("--language", help="ESCO: language of the files (default: from the file names).")
@click.option("--esco-version", help="ESCO: release, e.g. 1.2.0.")
@click.option("--title", help="Custom format: framework title.")
def import_framework(
    paths: tuple[str, ...], fmt: str | None, language: str | None, esco_version: str | None, title: str | None
) -> None:
    """Import framework files or folders; each file (or ESCO release folder) in its own transaction."""
    options = {k: v for k, v in (("language", language), ("version", esco_version), ("title", title)) if v}
    failed = 0
    for batch in _framework_batches(paths, fmt):
        failed += not _import_one(batch, fmt, options)
    if failed:
        click.echo(f"{failed} import(s) failed.", err=True)
        sys.exit(1)


def _framework_batches(paths: tuple[str, ...], fmt: str | None) -> list[list[Path]]:
    """Files to import, one list per transaction: the ESCO CSV files of a folder go together."""
    from app.importers import ImportFormatError, detect_format

    batches: list[list[Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            batches.append([path])
            continue
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in (".xml", ".zip", ".csv", ".json")
        )
        esco: list[Path] = []
        for file in files:
            try:
                kind = fmt or detect_format(file)
            except ImportFormatError:
                kind = None  # reported when imported on its own
            (esco.append(file) if kind == "esco-csv" and file.suffix.lower() == ".csv" else batches.append([file]))
        if esco:
            batches.append(esco)
    return batches


def _import_one(files: list[Path], fmt: str | None, options: dict[str, str]) -> bool:
    """Import one batch in its own transaction, printing progress and counts; False on failure."""
    from app.platform.errors import ServiceError
    from app.services.frameworks.imports import import_framework_file, sha256_of
    from app.services.identity.access import Grants
    from app.services.identity.audit import Actor

    name = ", ".join(str(f) for f in files)
    started = time.monotonic()

    def progress(counts: Any) -> None:
        if not counts.done:
            click.echo(f"  … {counts.records:,} records ({time.monotonic() - started:.0f} s)")

    def warn(warning: Any) -> None:
        click.echo(f"  warning: {describe_warning(warning)}")

    click.echo(f"Importing {name}")
    try:
        report = import_framework_file(
            db.session,
            Grants(Actor(None), platform_admin=True),
            files[0] if len(files) == 1 else files,
            format=fmt,  # type: ignore[arg-type]
            options=options,  # type: ignore[arg-type]
            on_progress=progress,
            progress_every=10000,
            file_sha256=sha256_of(files),
            on_warning=warn,
        )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"FAILED {name}: {exc.detail}", err=True)
        return False
    c = report.counts
    click.echo(
        f"  {report.format}: {c.fiches} fiches, {c.blocs} blocs, {c.competences} compétences, "
        f"{c.skill_groups} skill groups, {c.skills} skills, {c.items} items, "
        f"{c.associations} associations, {report.warnings_total} warnings"
    )
    click.echo(
        f"  frameworks: {report.created} new version(s), {report.unchanged} unchanged "
        f"({time.monotonic() - started:.1f} s)"
    )
    for framework in report.frameworks:
        if framework.restores:
            click.echo(
                f"  {framework.source_key}: version {framework.version} restores the content of version "
                f"{framework.restores} and is current"
            )
    for reason, count in report.skipped.items():
        click.echo(f"  skipped: {count:,} × {reason}")
    return True


def describe_warning(warning: Any) -> str:
    """One warning on one line, with what it concerns: file, line, element and item (source key)."""
    where = ", ".join(
        f"{label} {value}"
        for label, value in (
            ("file", warning.file),
            ("line", warning.line),
            ("element", warning.element),
            ("item", warning.source_key),
            ("rows", warning.count),
        )
        if value
    )
    return f"{warning.reason}" + (f" [{where}]" if where else "")


def register(app: Flask) -> None:
    app.cli.add_command(blason)


# Issuing: keys, revocation and the award queue ----------------------------------------------------


def _issuing_settings():  # type: ignore[no-untyped-def]
    return runtime().issuing


def _cli_grants(actor_email: str | None):  # type: ignore[no-untyped-def]
    """The operator's grants (``--actor`` e-mail), or the system acting as platform administrator."""
    from sqlalchemy import func, select

    from app.models import Person
    from app.services.identity import access
    from app.services.identity.audit import Actor

    if not actor_email:
        return access.Grants(Actor(None), platform_admin=True)
    person_id = db.session.scalar(select(Person.id).where(func.lower(Person.email) == actor_email.lower()))
    if person_id is None:
        raise click.BadParameter("no account has this e-mail address", param_hint="--actor")
    return access.load_grants(db.session, person_id)


def _run(action, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Call a service; print its refusal and exit 1 instead of a traceback."""
    from app.platform.errors import ServiceError

    try:
        result = action(*args, **kwargs)
    except ServiceError as exc:
        db.session.rollback()
        click.echo(f"Refused: {exc.detail}", err=True)
        for error in exc.errors:
            click.echo(f"  {error.pointer}: {error.detail}", err=True)
        sys.exit(1)
    db.session.commit()
    return result


@blason.command("rotate-key")
@click.option("--issuer", "issuer_id", required=True, type=click.UUID)
@click.option(
    "--purpose",
    "purposes",
    multiple=True,
    type=click.Choice(["data_integrity", "vc_jwt", "ob2"]),
    help="Only these purposes (default: all three).",
)
@click.option("--actor", "actor_email", help="E-mail of the administrator doing it (default: system).")
def rotate_key(issuer_id, purposes, actor_email) -> None:  # type: ignore[no-untyped-def]
    """Create new active signing keys; old ones are retired (still published, still verifying)."""
    from app.models import KeyPurpose
    from app.services.issuing import issuers

    created = _run(
        issuers.rotate_keys,
        db.session,
        _cli_grants(actor_email),
        issuer_id,
        [KeyPurpose(p) for p in purposes] or None,
        settings=_issuing_settings(),
    )
    for key in created:
        click.echo(f"New {key.purpose.value} key {key.kid} ({key.algorithm}).")


@blason.command("compromise-key")
@click.option("--issuer", "issuer_id", required=True, type=click.UUID)
@click.option("--key", "key_id", required=True, type=click.UUID)
@click.option("--reason", required=True)
@click.option("--actor", "actor_email")
def compromise_key(issuer_id, key_id, reason, actor_email) -> None:  # type: ignore[no-untyped-def]
    """Flag a signing key compromised; the credentials it signed are flagged."""
    from app.services.issuing import issuers

    key = _run(
        issuers.compromise_key,
        db.session,
        _cli_grants(actor_email),
        issuer_id,
        key_id,
        reason,
        settings=_issuing_settings(),
    )
    click.echo(f"Key {key.kid} is marked compromised.")


@blason.command("rewrap-keys")
def rewrap_keys() -> None:
    """Re-encrypt every signing key under the first key-encryption key (after adding a new one)."""
    from app.services.issuing import keys

    count = keys.rewrap_keys(db.session, runtime().settings.key_encryption_keys)
    db.session.commit()
    click.echo(f"{count} key(s) re-encrypted.")


def _tell(messages) -> None:  # type: ignore[no-untyped-def]
    """Send the e-mails of work this command has just committed (SMTP, or the outbox folder)."""
    from app.platform import mail

    mail.deliver(runtime().mailer, messages)


def _status_command(name: str, help_text: str, reason_required: bool):  # type: ignore[no-untyped-def]
    @blason.command(name, help=help_text)
    @click.option("--credential", "credential_id", required=True, type=click.UUID)
    @click.option("--reason", required=reason_required, default=None)
    @click.option("--actor", "actor_email")
    def command(credential_id, reason, actor_email) -> None:  # type: ignore[no-untyped-def]
        from app.services.issuing import badge_mail, revocation

        action = getattr(revocation, name)
        settings = _issuing_settings()
        credential = _run(action, db.session, _cli_grants(actor_email), credential_id, reason, settings=settings)
        _tell(badge_mail.badge_status_changed(db.session, credential, settings=settings))  # committed: tell
        click.echo(f"Credential {credential.id} is now {credential.state.value}.")

    return command


revoke = _status_command("revoke", "Revoke a credential in every format at once (audited).", True)
suspend = _status_command("suspend", "Suspend a credential in every format at once (audited).", True)
unsuspend = _status_command("unsuspend", "Lift a credential's suspension (audited).", False)


@blason.command("process-award-events")
@click.option("--batch", default=100, show_default=True, help="Events per transaction.")
def process_award_events(batch: int) -> None:
    """Award (or propose) badges for every standing change not yet processed, one commit per batch."""
    from app.services.issuing import badge_mail
    from app.services.issuing.awarding import process_award_events as process

    settings = _issuing_settings()
    issued = proposed = processed = failed = 0
    while True:
        report = process(db.session, settings=settings, limit=batch)
        db.session.commit()
        _tell(badge_mail.badges_issued(db.session, report.issued, settings=settings))
        issued, proposed = issued + len(report.issued), proposed + len(report.proposed)
        processed, failed = processed + report.processed, report.failed
        if report.processed == 0:  # empty queue, or only events that keep failing (retried next run)
            break
    click.echo(
        f"{processed} event(s) processed: {issued} badge(s) issued, {proposed} proposed"
        + (f"; {failed} left to retry" if failed else "")
        + "."
    )


# Jury dossiers ------------------------------------------------------------------------------------


def _dossier_settings():  # type: ignore[no-untyped-def]
    return runtime().dossiers


@blason.command("dossier-request")
@click.option(
    "--certification",
    "certification_id",
    required=True,
    type=click.UUID,
    help="Id of the RNCP fiche version (its fiche node).",
)
@click.option("--learner", "learner_id", type=click.UUID, help="Learner id (default: the actor themselves).")
@click.option("--bloc", "bloc_ids", multiple=True, type=click.UUID, help="Only these blocs (partial validation).")
@click.option("--actor", "actor_email", required=True, help="E-mail of the jury officer (or learner) asking.")
def dossier_request(certification_id, learner_id, bloc_ids, actor_email) -> None:  # type: ignore[no-untyped-def]
    """Ask for a learner's jury dossier (the learner must then consent)."""
    from app.services.dossiers import consent_mail, lifecycle as dossiers

    dossier = _run(
        dossiers.request_dossier,
        db.session,
        _cli_grants(actor_email),
        {"certification_id": certification_id, "learner_id": learner_id, "bloc_ids": list(bloc_ids)},
        clock=runtime().clock,
    )
    _tell(consent_mail.consent_requested(db.session, dossier, settings=_dossier_settings()))
    click.echo(f"Dossier {dossier.id} requested ({dossier.status.value}).")


@blason.command("dossier-generate")
@click.argument("dossier_id", type=click.UUID)
@click.option(
    "--out", "out_path", type=click.Path(dir_okay=False, writable=True), help="Also write the ZIP to this file."
)
@click.option("--actor", "actor_email", help="E-mail of the jury officer (default: system).")
def dossier_generate(dossier_id, out_path, actor_email) -> None:  # type: ignore[no-untyped-def]
    """Generate a consented dossier (audited); print its gaps; optionally save the ZIP."""
    import shutil

    from app.services.dossiers import lifecycle as dossiers

    config = _dossier_settings()
    result = _run(dossiers.generate, db.session, _cli_grants(actor_email), dossier_id, settings=config)
    click.echo(
        f"Dossier {result.dossier.id}: {result.size:,} bytes, {len(result.content.annexes)} annex(es), "
        f"manifest sha256 {result.dossier.manifest_sha256}."
    )
    dossiers.discard_archive(config.storage, result.replaced_key)
    for gap in result.dossier.gaps or []:
        click.echo(f"  MISSING {gap['annex']} {gap['title']} (evidence {gap['evidenceId']}): {gap['reason']}", err=True)
    if out_path:
        with config.storage.open_keyed(result.dossier.archive_key) as source, open(out_path, "wb") as target:
            shutil.copyfileobj(source, target, 1024 * 1024)
        click.echo(f"Written to {out_path}.")


@blason.command("verify-dossier")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def verify_dossier(path: str) -> None:
    """Verify a dossier ZIP against its signed manifest; exit 1 if anything is off."""
    from app.services.dossiers.lifecycle import verify_upload

    key = runtime().platform_key
    assert key is not None
    with open(path, "rb") as handle:
        report = verify_upload(handle, public=key.public)
    click.echo(
        f"Dossier {report.dossier_id or '?'} generated {report.generated_at or '?'}: "
        f"signature {'valid' if report.signature_valid else 'INVALID'}, {report.checked} file(s) checked."
    )
    for label, names in (
        ("ALTERED", report.altered),
        ("MISSING", report.missing),
        ("ADDED", report.added),
        ("UNSAFE NAME", report.unsafe),
    ):
        for name in names:
            click.echo(f"  {label}: {name}")
    for gap in report.gaps:
        click.echo(f"  gap declared at generation: {gap.get('annex')} {gap.get('title')}")
    for problem in report.problems:
        click.echo(f"  {problem}")
    if not report.valid:
        click.echo("Dossier NOT intact.", err=True)
        sys.exit(1)
    click.echo("Dossier intact.")


# Offline verification (issue 17) ------------------------------------------------------------------


@blason.command("trust-export")
@click.argument("directory", type=click.Path(file_okay=False))
def trust_export(directory: str) -> None:
    """Save the signed trust list, status bundle and platform key (JWK) in DIRECTORY, for verify-offline."""
    import json

    from app.services.verification import offline

    rt = runtime()
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    now = rt.clock()
    trust = offline.signed_trust_list(db.session, rt.issuing.urls, rt.platform_key, now)
    status = offline.signed_status_bundle(db.session, rt.issuing.urls, rt.platform_key, now)
    (target / "issuers.jws").write_text(trust.token, encoding="ascii")
    (target / "status.jws").write_text(status.token, encoding="ascii")
    jwk = rt.platform_key.public.jwk(alg="EdDSA")
    (target / "platform.jwk.json").write_text(json.dumps(jwk, indent=1), encoding="utf-8")
    click.echo(f"Written issuers.jws, status.jws and platform.jwk.json to {target}.")


@blason.command("verify-offline")
@click.argument("payload")
@click.option("--trust-list", "trust_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--status", "status_path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--platform-key",
    "key_path",
    type=click.Path(exists=True, dir_okay=False),
    help="The platform's public JWK (trust-export's platform.jwk.json); default: this instance's key.",
)
def verify_offline(payload: str, trust_path: str, status_path: str | None, key_path: str | None) -> None:
    """Verify a compact signed badge (BL1:..., or @FILE, or - for standard input) with no network; exit 1 unless genuine."""
    import json

    import badges
    from badges import compact

    if payload == "-":
        payload = sys.stdin.read()
    elif payload.startswith("@"):
        payload = Path(payload[1:]).read_text(encoding="utf-8")
    if key_path:
        platform = badges.public_key_from_jwk(json.loads(Path(key_path).read_text(encoding="utf-8")))
    else:
        platform = runtime().platform_key.public
    try:
        trust = compact.load_trust_list(Path(trust_path).read_text(encoding="ascii"), platform)
        bundle = (
            compact.load_status_bundle(Path(status_path).read_text(encoding="ascii"), platform) if status_path else None
        )
    except (badges.ProofError, badges.InvalidInput) as exc:
        click.echo(f"The trust material does not verify with the platform key: {exc}", err=True)
        sys.exit(2)
    report = compact.verify_compact(payload, trust_list=trust, status_bundle=bundle, now=runtime().clock())
    if report.credential:
        click.echo(f"{report.credential['name']} — {report.credential['issuer']['name']} ({report.credential['id']})")
    for check in report.checks:
        click.echo(f"  {check.name}: {check.outcome} — {check.reason_fr}")
    click.echo("authentique" if report.valid else "NON VALIDE")
    sys.exit(0 if report.valid else 1)


# Storage ------------------------------------------------------------------------------------------


@blason.command("storage-sweep")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
def storage_sweep(dry_run: bool) -> None:
    """Remove what crashes left in storage: abandoned temporary files and unreferenced dossier archives."""
    from app.platform.storage_sweep import sweep

    rt = runtime()
    swept = sweep(
        db.session,
        rt.storage,
        tmp_grace=rt.settings.storage_tmp_grace,
        orphan_grace=rt.settings.storage_orphan_grace,
        now=time.time(),
        dry_run=dry_run,
    )
    db.session.rollback()
    verb = "would remove" if dry_run else "removed"
    for item in swept:
        age = (time.time() - item.file.modified) / 60
        click.echo(f"{verb} {item.kind} {item.file.name} ({item.file.size:,} bytes, unchanged for {age:,.0f} min)")
    click.echo(f"{len(swept)} file(s) {verb}, {sum(i.file.size for i in swept):,} bytes.")
