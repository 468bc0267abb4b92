"""All models, imported here so Alembic and the app see the whole metadata."""
from app.models.audit import AuditEvent, AuditHead, AuditSignedHead
from app.models.claims import Claim, ClaimStatus, Decision, DomainEvent, Review, Standing
from app.models.contributions import (
    CoContributor, Contribution, ContributionStatus, Evidence, EvidenceKind, StoredFile, Visibility)
from app.models.dossiers import Dossier, DossierStatus
from app.models.frameworks import (
    Competency, CompetencyAssociation, Confidence, Framework, RatingScale, SourceType)
from app.models.issuing import (
    Achievement, AchievementAlignment, AchievementVersion, AwardMode, AwardRuleCompetency, Credential, CredentialState,
    Issuer, KeyPurpose, KeyStatus, SigningKey, StatusList, StatusPurpose)
from app.models.people import (
    ROLE_SCOPES, Facilitation, Membership, Person, ProfileType, RefreshToken, Role, ScopeType)
from app.models.territories import (
    ExperimentationLevel, Project, ProjectStatus, SocialFunction, Territory)

__all__ = [
    "Achievement", "AchievementAlignment", "AchievementVersion", "AuditEvent", "AuditHead", "AuditSignedHead",
    "AwardMode", "AwardRuleCompetency", "Claim", "ClaimStatus", "CoContributor", "Competency", "CompetencyAssociation",
    "Confidence", "Contribution", "ContributionStatus", "Credential", "CredentialState", "Decision",
    "DomainEvent", "Dossier", "DossierStatus", "Evidence", "EvidenceKind", "ExperimentationLevel",
    "Facilitation", "Framework", "Issuer", "KeyPurpose", "KeyStatus", "Membership", "Person",
    "ProfileType", "Project", "ProjectStatus", "ROLE_SCOPES", "RatingScale", "RefreshToken",
    "Review", "Role", "ScopeType", "SigningKey", "SocialFunction", "Standing", "StatusList",
    "StatusPurpose", "StoredFile", "Territory", "Visibility",
]
