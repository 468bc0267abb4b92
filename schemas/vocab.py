"""Controlled vocabularies of the API (a test keeps them equal to the model enums)."""

from __future__ import annotations

ProfileTypes = (
    "habitant_entrepreneur",
    "agent_innovateur",
    "elu",
    "etudiant_facilitateur",
    "benevole",
    "demandeur_emploi",
    "autre",
)
Roles = ("platform_admin", "coordinator", "tutor", "learner", "issuer_admin", "jury_officer")
ScopeTypes = ("platform", "territory", "project", "issuer", "certification")
ExperimentationLevels = ("cooperation", "made_in_local", "experimentation_site")
SocialFunctions = ("produire", "se_nourrir", "se_loger", "s_eduquer", "s_epanouir", "se_soigner")
ProjectStatuses = ("planned", "active", "completed", "archived")
ContributionStatuses = ("draft", "submitted")
EvidenceKinds = ("file", "link", "text")
Visibilities = ("private", "tutors", "jury", "public")
