"""Jury dossier generation: a learner with 300 contributions and 1,000 evidence files (500 MB).

For each evidence volume (by default 100 MB and 500 MB, same counts) a fresh subprocess seeds the
data, then measures in the same run, interleaved: writing the same evidence files into a plain ZIP
with the standard library (the baseline); generating the dossier through the service (content
from the database, PDF, JSON, CSV, CLR, credentials, annexes, signed manifest, stored under its
key, audited); and generating it again with the evidence copied through Python (read, write), as
on a system without ``copy_file_range``. Best of ``--repeat`` runs each; dirty pages are flushed
(``os.sync``) before each timed run so that neither side pays for the other's write-back.

The baseline is given the dossier's compression choices: each file with
``compression_for(media type)``, which stores already-compressed formats (the bench's evidence is
PDF, so ``ZIP_STORED`` on both sides, as a plain ``ZipFile`` writes by default), copied in 1 MiB
chunks from the same storage into the same file system, with a warm page cache on both sides.

Memory: the peak of Python allocations during generation (tracemalloc, separate run) and the
process's peak RSS growth during generation (ru_maxrss), to show it stays flat as the evidence grows.

Run: .venv/bin/python bench/bench_dossier.py [--mb 100,500] [--files 1000] [--contributions 300]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db import db  # noqa: E402
from app.models import (  # noqa: E402
    Claim,
    ClaimStatus,
    Competency,
    Contribution,
    ContributionStatus,
    Decision,
    Dossier,
    DossierStatus,
    Evidence,
    EvidenceKind,
    Framework,
    Person,
    Project,
    Review,
    SourceType,
    Standing,
    StoredFile,
    Territory,
    Visibility,
)
from app.platform import zipwriter
from app.platform.urls import Urls
from app.runtime import runtime  # noqa: E402
from app.services.dossiers import lifecycle as dossiers
from app.services.dossiers.build import build_content
from app.services.dossiers.pdf import render_dossier
from app.services.dossiers.verify import compression_for
from app.services.identity import access
from app.services.identity.audit import Actor
from bench._common import bench_app, table  # noqa: E402

T0 = datetime(2026, 1, 5, tzinfo=UTC)
BLOCS, PER_BLOC = 4, 6


def seed(app: Any, contributions: int, files: int, total_bytes: int) -> tuple[Any, list[tuple[str, str]]]:
    """The learner's data; evidence bytes are random (incompressible) and streamed to storage."""
    storage = runtime(app).storage
    s = db.session
    territory = Territory(name="Communauté de communes du Val de Brenne")
    framework = Framework(source_type=SourceType.RNCP, source_key="RNCP40792", title="BTS SIO")
    learner, tutor = Person(display_name="Zoé Lefèvre"), Person(display_name="Théo Tuteur")
    s.add_all([territory, framework, learner, tutor])
    s.flush()
    project = Project(territory_id=territory.id, title="Tiers-lieu numérique", social_functions=["produire"])
    fiche = Competency(
        framework_id=framework.id,
        source_key="RNCP40792",
        kind="fiche",
        code="RNCP40792",
        label="BTS Services informatiques aux organisations",
    )
    s.add_all([project, fiche])
    s.flush()
    competences = []
    for b in range(BLOCS):
        bloc = Competency(
            framework_id=framework.id,
            parent_id=fiche.id,
            source_key=f"BC{b}",
            kind="bloc",
            code=f"RNCP40792BC0{b + 1}",
            label=f"Bloc {b + 1} : activités d’exploitation",
            raw_text="* Compétence « publiée » " * PER_BLOC,
            position=b,
        )
        s.add(bloc)
        s.flush()
        for c in range(PER_BLOC):
            comp = Competency(
                framework_id=framework.id,
                parent_id=bloc.id,
                source_key=f"BC{b}-C{c}",
                kind="competence",
                code=f"RNCP40792BC0{b + 1}-C{c + 1:02d}",
                label=f"Compétence {c + 1} du bloc {b + 1} : gérer l’existant",
                position=c,
            )
            s.add(comp)
            competences.append(comp)
    s.flush()
    sizes = [total_bytes // files] * files
    paths: list[tuple[str, str]] = []
    rows = []
    for i in range(contributions):
        contribution = Contribution(
            project_id=project.id,
            learner_id=learner.id,
            created_by_id=learner.id,
            title=f"Contribution {i}",
            narrative="J’ai organisé l’atelier, accueilli les habitants et rédigé le compte rendu. " * 4,
            role="animatrice",
            hours=Decimal(12),
            status=ContributionStatus.SUBMITTED,
            submitted_at=T0,
        )
        s.add(contribution)
        s.flush()
        competency = competences[i % len(competences)]
        claim = Claim(
            contribution_id=contribution.id,
            project_id=project.id,
            competency_id=competency.id,
            learner_id=learner.id,
            justification="J’ai fait cela moi-même.",
            status=ClaimStatus.VALIDATED,
            created_by_id=learner.id,
            level="acquis",
        )
        s.add(claim)
        s.flush()
        s.add(
            Review(
                claim_id=claim.id,
                reviewer_id=tutor.id,
                decision=Decision.VALIDATED,
                level="acquis",
                proficient=True,
                comment="Travail solide, bien documenté.",
                created_at=T0,
            )
        )
        rows.append(contribution.id)
    for competency in competences[: len(competences) * 2 // 3]:
        s.add(
            Standing(
                learner_id=learner.id, competency_id=competency.id, level="acquis", state="validated", proficient=True
            )
        )
    for n, size in enumerate(sizes):
        data = b"%PDF-1.4\n" + os.urandom(size - 9)
        blob = storage.put(_Bytes(data), size + 1)
        if s.get(StoredFile, blob.sha256) is None:
            s.add(StoredFile(sha256=blob.sha256, size=blob.size, crc32=blob.crc32, media_type="application/pdf"))
            s.flush()
        s.add(
            Evidence(
                contribution_id=rows[n % len(rows)],
                kind=EvidenceKind.FILE,
                title=f"Pièce n° {n}",
                visibility=Visibility.JURY,
                file_sha256=blob.sha256,
                media_type="application/pdf",
                size=blob.size,
                filename=f"piece-{n}.pdf",
                created_by_id=learner.id,
            )
        )
        paths.append((f"annexes/A{n + 1:04d}.pdf", blob.sha256))
        if n % 100 == 0:
            s.flush()
    dossier = Dossier(
        learner_id=learner.id,
        requested_by_id=learner.id,
        certification_id=fiche.id,
        bloc_ids=[],
        status=DossierStatus.CONSENTED,
        consented_at=T0,
    )
    s.add(dossier)
    s.commit()
    return dossier.id, paths


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def read(self, n: int = -1) -> bytes:
        chunk = self.data[self.pos : self.pos + (n if n >= 0 else len(self.data))]
        self.pos += len(chunk)
        return chunk


def plain_zip(app: Any, paths: list[tuple[str, str]], target: str) -> float:
    """The baseline: the same evidence files into a ZIP with the standard library, nothing else."""
    storage = runtime(app).storage
    os.sync()
    start = time.perf_counter()
    with zipfile.ZipFile(target, "w") as archive:
        for name, sha in paths:
            info = zipfile.ZipInfo(name)
            info.compress_type = compression_for("application/pdf")
            with storage.open(sha) as source, archive.open(info, "w") as out:
                while chunk := source.read(1024 * 1024):
                    out.write(chunk)
    elapsed = time.perf_counter() - start
    os.unlink(target)
    return elapsed


def _generate(grants: access.Grants, dossier_id: Any, config: dossiers.DossierSettings) -> tuple[Any, float]:
    os.sync()
    start = time.perf_counter()
    result = dossiers.generate(db.session, grants, dossier_id, settings=config)
    db.session.commit()
    elapsed = time.perf_counter() - start
    dossiers.discard_archive(config.storage, result.replaced_key)  # as the baseline's unlink: not timed
    return result, elapsed


def child(mb: int, files: int, contributions: int, repeat: int) -> dict[str, Any]:
    assert compression_for("application/pdf") == zipfile.ZIP_STORED  # both sides store the PDFs as they are
    with bench_app() as app, app.app_context():
        dossier_id, paths = seed(app, contributions, files, mb * 1024 * 1024)
        rt = runtime(app)
        config = dossiers.DossierSettings(
            urls=Urls("https://blason.example"), storage=rt.storage, platform_key=rt.platform_key, link_secret="bench"
        )
        grants = access.Grants(Actor(None), platform_admin=True)
        tmp = tempfile.mkdtemp(dir=rt.storage.root / "tmp")  # the same file system as the dossier
        for _name, sha in paths:  # both sides read from a warm page cache
            with rt.storage.open(sha) as handle:
                while handle.read(1024 * 1024):
                    pass
        base, gen, gen_user = [], [], []
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for _ in range(repeat):
            base.append(plain_zip(app, paths, os.path.join(tmp, "plain.zip")))
            result, elapsed = _generate(grants, dossier_id, config)
            gen.append(elapsed)
            kernel, zipwriter.KERNEL_COPY = zipwriter.KERNEL_COPY, False  # as without copy_file_range
            try:
                gen_user.append(_generate(grants, dossier_id, config)[1])
            finally:
                zipwriter.KERNEL_COPY = kernel
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        # The fixed part: gathering the content and laying out the PDF, whatever the evidence volume.
        pdf = []
        for _ in range(repeat):
            start = time.perf_counter()
            content = build_content(
                db.session, db.session.get(Dossier, dossier_id), storage=rt.storage, urls=config.urls, now=T0
            )
            with open(os.devnull, "wb") as sink:
                render_dossier(content, sink)
            pdf.append(time.perf_counter() - start)
        tracemalloc.start()
        traced = dossiers.generate(db.session, grants, dossier_id, settings=config).dossier.archive_key
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        db.session.rollback()
        dossiers.discard_archive(config.storage, traced)
        return {
            "evidence": f"{files:,} files, {mb} MB",
            "contributions": contributions,
            "zip MB": round(result.size / 1024 / 1024, 1),
            "plain zip s": round(min(base), 2),
            "dossier s": round(min(gen), 2),
            "ratio": round(min(gen) / min(base), 2),
            "without kernel copy s": round(min(gen_user), 2),
            "ratio without": round(min(gen_user) / min(base), 2),
            "content+PDF s": round(min(pdf), 2),
            "archive ratio": round((min(gen) - min(pdf)) / min(base), 2),
            "py peak MB": round(peak / 1024 / 1024, 1),
            "RSS growth MB": round(max(0, rss_after - rss_before) / 1024, 1),
            "peak RSS MB": round(rss_after / 1024, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", default="100,500", help="evidence volumes in MB, comma-separated")
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--contributions", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.files, args.contributions, args.repeat)))
        return
    rows = []
    for mb in (int(v) for v in args.mb.split(",")):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                str(mb),
                "--files",
                str(args.files),
                "--contributions",
                str(args.contributions),
                "--repeat",
                str(args.repeat),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(
            {
                k: f"{v:.2f}" if isinstance(v, float) else v  # the shared table prints one decimal
                for k, v in json.loads(out.stdout.strip().splitlines()[-1]).items()
            }
        )
        print(f"  {rows[-1]}", file=sys.stderr)
    print(
        table(
            rows,
            [
                "evidence",
                "contributions",
                "zip MB",
                "plain zip s",
                "dossier s",
                "ratio",
                "without kernel copy s",
                "ratio without",
                "content+PDF s",
                "archive ratio",
                "py peak MB",
                "RSS growth MB",
                "peak RSS MB",
            ],
        )
    )


if __name__ == "__main__":
    main()
