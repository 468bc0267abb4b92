"""Identity: people, accounts, sign-in, authorisation and the audit trail.

The bottom domain: every other domain checks its callers with ``access`` and records what it
did with ``audit``; identity imports no other domain. Modules: ``access`` (grants and scope
checks), ``auth`` (passwords, access and refresh tokens), ``people`` (people, memberships,
facilitations), ``audit`` (the hash-chained event log), ``audit_heads`` (its signed heads) and
``account_links`` (the e-mailed single-use links of invitations and password resets).
"""

from __future__ import annotations

from app.services.identity.access import (
    ANONYMOUS,
    Grants,
    can_manage_project,
    can_tutor,
    check_manage_territory,
    get_project,
    is_assisted_account,
    is_own,
    lent_issuer_filter,
    lent_projects,
    lent_territory_ids,
    load_grants,
    require_login,
    served_territory_ids,
    visible_project_filter,
    visible_territory_ids,
)
from app.services.identity.account_links import LinkNotValid, LinkSettings
from app.services.identity.audit import Actor, record, verify_chain
from app.services.identity.audit_heads import (
    BadSignedHead,
    check_head,
    export,
    read_signed_head,
    sign_head,
    sign_head_if_due,
    verify_stored_heads,
)
from app.services.identity.auth import (
    Passwords,
    TokenSettings,
    check_password,
    decode_access_token,
    login,
    logout,
    refresh,
)
from app.services.identity.people import (
    create_person,
    get_me,
    get_person,
    grant_facilitation,
    grant_membership,
    list_memberships,
    revoke_membership,
    update_me,
)

__all__ = [
    "ANONYMOUS",
    "Actor",
    "BadSignedHead",
    "Grants",
    "LinkNotValid",
    "LinkSettings",
    "Passwords",
    "TokenSettings",
    "can_manage_project",
    "can_tutor",
    "check_head",
    "check_manage_territory",
    "check_password",
    "create_person",
    "decode_access_token",
    "export",
    "get_me",
    "get_person",
    "get_project",
    "grant_facilitation",
    "grant_membership",
    "is_assisted_account",
    "is_own",
    "lent_issuer_filter",
    "lent_projects",
    "lent_territory_ids",
    "list_memberships",
    "load_grants",
    "login",
    "logout",
    "read_signed_head",
    "record",
    "refresh",
    "require_login",
    "revoke_membership",
    "served_territory_ids",
    "sign_head",
    "sign_head_if_due",
    "update_me",
    "verify_chain",
    "verify_stored_heads",
    "visible_project_filter",
    "visible_territory_ids",
]
