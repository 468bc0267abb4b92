"""The API's vocabularies are exactly the model enums."""

from app import models
from schemas import vocab


def test_vocabularies_match_models():
    pairs = [
        (vocab.ProfileTypes, models.ProfileType),
        (vocab.Roles, models.Role),
        (vocab.ScopeTypes, models.ScopeType),
        (vocab.ExperimentationLevels, models.ExperimentationLevel),
        (vocab.SocialFunctions, models.SocialFunction),
        (vocab.ProjectStatuses, models.ProjectStatus),
        (vocab.ContributionStatuses, models.ContributionStatus),
        (vocab.EvidenceKinds, models.EvidenceKind),
        (vocab.Visibilities, models.Visibility),
    ]
    for values, enum in pairs:
        assert tuple(values) == tuple(m.value for m in enum), enum.__name__
