"""Dossiers: jury (VAE) evidence dossiers, cohort tables and the learner's own record.

A top domain: stands on recognition and identity. Modules: ``lifecycle`` (request, consent,
generation, download, verification), ``scope``, ``build``, ``pdf``, ``archive``, ``documents``,
``verify``, ``cohort`` and ``records`` (the learner record export). The cohort table itself is
``cohort.cohort`` (not exported here: the name is the module's).
"""

from __future__ import annotations

from app.services.dossiers.lifecycle import (
    DossierSettings,
    cohort_csv,
    consent,
    discard_archive,
    download_link,
    generate,
    generated_view,
    get_dossier,
    list_dossiers,
    open_download,
    platform_document,
    refuse,
    request_dossier,
    verify_upload,
)
from app.services.dossiers.records import learner_record, stream_record

__all__ = [
    "DossierSettings",
    "cohort_csv",
    "consent",
    "discard_archive",
    "download_link",
    "generate",
    "generated_view",
    "get_dossier",
    "learner_record",
    "list_dossiers",
    "open_download",
    "platform_document",
    "refuse",
    "request_dossier",
    "stream_record",
    "verify_upload",
]
