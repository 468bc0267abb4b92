"""The public pages' words, French first and English on request (``?lang=en`` or Accept-Language).

A plain catalogue rather than Flask-Babel: the public pages have about a hundred strings and
two languages, and a dictionary keeps the French and English of one message side by side,
where a reviewer sees them together.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import request

from app.services.verification.verification import VERDICT_LABELS

LANGS = ("fr", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    "other_lang": ("English", "Français"),
    "verification": ("Vérification du badge", "Badge verification"),
    "verdict_genuine_more": ("Ce badge a bien été délivré par {issuer} et n'a pas été modifié.",
                             "This badge was issued by {issuer} and has not been altered."),
    "verdict_revoked_more": ("{issuer} a retiré ce badge : il n'est plus valable.",
                             "{issuer} has withdrawn this badge: it is no longer valid."),
    "verdict_suspended_more": ("{issuer} a suspendu ce badge pour le moment : il n'est pas valable tant que "
                               "la suspension dure.",
                               "{issuer} has suspended this badge for now: it is not valid while suspended."),
    "verdict_expired_more": ("Ce badge était valable jusqu'au {date}.", "This badge was valid until {date}."),
    "verdict_not_yet_valid_more": ("Ce badge ne sera valable qu'à partir du {date}.",
                                   "This badge will only be valid from {date}."),
    "verdict_unknown_key_more": ("La clé qui a signé ce badge n'est pas reconnue par l'émetteur annoncé.",
                                 "The key that signed this badge is not recognised by the stated issuer."),
    "verdict_key_compromised_more": ("La clé qui a signé ce badge a été déclarée compromise par l'émetteur : "
                                     "ce badge ne peut plus être considéré comme fiable.",
                                     "The issuer reported the key that signed this badge as compromised: "
                                     "this badge can no longer be trusted."),
    "verdict_invalid_more": ("La signature ne correspond pas : le badge a été modifié ou ne vient pas de "
                             "l'émetteur annoncé.",
                             "The signature does not match: the badge was altered or does not come from "
                             "the stated issuer."),
    "verdict_unreachable_more": ("Le serveur de {issuer} n'a pas répondu à temps ou n'a pas pu être joint : "
                                 "ce badge n'a pas pu être vérifié. Réessayez plus tard.",
                                 "The server of {issuer} did not answer in time or could not be reached: this "
                                 "badge could not be verified. Try again later."),
    "verdict_unreadable_more": ("Ce document n'est pas un badge Open Badges reconnu.",
                                "This document is not a recognised Open Badge."),
    "verdict_status_unknown_more": ("La signature est valable, mais on ne peut pas savoir si le badge a été "
                                    "révoqué.",
                                    "The signature is valid, but whether the badge was revoked cannot be "
                                    "checked."),
    "verdict_wrong_recipient_more": ("Ce badge a été délivré à quelqu'un d'autre.",
                                     "This badge was issued to someone else."),
    "reason": ("Motif", "Reason"),
    "since": ("depuis le", "since"),
    "checked_at": ("Vérifié le {date}", "Checked on {date}"),
    "checks": ("Détail des vérifications", "Verification details"),
    "check_format": ("Format", "Format"),
    "check_structure": ("Structure", "Structure"),
    "check_proof": ("Signature", "Signature"),
    "check_issuer_key": ("Clé de l'émetteur", "Issuer key"),
    "check_status": ("Révocation et suspension", "Revocation and suspension"),
    "check_validity": ("Dates de validité", "Validity dates"),
    "check_recipient": ("Titulaire", "Recipient"),
    "check_endorsements": ("Recommandations", "Endorsements"),
    "outcome_pass": ("réussi", "passed"),
    "outcome_fail": ("échoué", "failed"),
    "outcome_warning": ("attention", "warning"),
    "outcome_skipped": ("sans objet", "not applicable"),
    "badge": ("Badge", "Badge"),
    "badge_image_alt": ("Image du badge « {name} »", "Image of the badge “{name}”"),
    "issuer": ("Émetteur", "Issuer"),
    "recipient": ("Titulaire", "Recipient"),
    "recipient_hidden": ("Nom non publié, à la demande du titulaire.", "Name not published, at the holder's request."),
    "issued_on": ("Délivré le", "Issued on"),
    "valid_until": ("Valable jusqu'au", "Valid until"),
    "no_expiry": ("sans date de fin", "no end date"),
    "level": ("Niveau atteint", "Level reached"),
    "criteria": ("Critères d'obtention", "Criteria"),
    "description": ("Description", "Description"),
    "kind": ("Type", "Type"),
    "competencies": ("Compétences reconnues", "Recognised competencies"),
    "no_competencies": ("Aucune compétence alignée.", "No aligned competency."),
    "framework": ("Référentiel", "Framework"),
    "evidence": ("Preuves publiques", "Public evidence"),
    "no_evidence": ("Aucune preuve publique.", "No public evidence."),
    "narrative": ("Ce qui a été fait", "What was done"),
    "share": ("Partager et télécharger", "Share and download"),
    "linkedin": ("Ajouter à mon profil LinkedIn", "Add to my LinkedIn profile"),
    "short_url": ("Adresse courte", "Short address"),
    "qr_alt": ("Code QR menant à cette page de vérification ({url})",
               "QR code leading to this verification page ({url})"),
    "qr_svg": ("Code QR (SVG)", "QR code (SVG)"),
    "qr_png": ("Code QR (PNG)", "QR code (PNG)"),
    "baked_png": ("Image du badge avec le badge intégré (PNG)", "Badge image with the credential baked in (PNG)"),
    "baked_svg": ("Image du badge avec le badge intégré (SVG)", "Badge image with the credential baked in (SVG)"),
    "ob3_json": ("Badge Open Badges 3.0 signé (JSON)", "Signed Open Badges 3.0 credential (JSON)"),
    "ob3_jwt": ("Badge Open Badges 3.0 (VC-JWT)", "Open Badges 3.0 credential (VC-JWT)"),
    "ob2": ("Assertion Open Badges 2.0 (anciennes plateformes)", "Open Badges 2.0 assertion (older platforms)"),
    "downloads": ("Téléchargements", "Downloads"),
    "technical": ("Pour les spécialistes", "For specialists"),
    "credential_id": ("Identifiant du badge", "Credential id"),
    "issuer_page": ("Profil de l'émetteur", "Issuer profile"),
    "website": ("Site", "Website"),
    "email": ("Courriel", "E-mail"),
    "keys": ("Clés de signature publiées", "Published signing keys"),
    "key_status_active": ("active", "active"),
    "key_status_retired": ("retirée (vérifie encore les anciens badges)", "retired (still verifies older badges)"),
    "key_status_compromised": ("compromise", "compromised"),
    "achievement": ("Badge", "Badge"),
    "version": ("Version", "Version"),
    "json_version": ("Version JSON", "JSON version"),
    "document": ("Document", "Document"),
    "status_list": ("Liste de statuts", "Status list"),
    "status_list_more": ("Liste signée des badges révoqués ou suspendus de cet émetteur (W3C Bitstring Status "
                         "List).", "Signed list of this issuer's revoked or suspended badges (W3C Bitstring "
                         "Status List)."),
    "purpose_revocation": ("révocation", "revocation"),
    "purpose_suspension": ("suspension", "suspension"),
    "updated": ("Mis à jour le", "Updated on"),
    "key": ("Clé publique", "Public key"),
    "algorithm": ("Algorithme", "Algorithm"),
    "created": ("Créée le", "Created on"),
    "ob2_issuer": ("Émetteur (Open Badges 2.0)", "Issuer (Open Badges 2.0)"),
    "ob2_badgeclass": ("Badge (Open Badges 2.0)", "Badge class (Open Badges 2.0)"),
    "ob2_key": ("Clé publique (Open Badges 2.0)", "Public key (Open Badges 2.0)"),
    "ob2_revocations": ("Liste de révocation (Open Badges 2.0)", "Revocation list (Open Badges 2.0)"),
    "evidence_item": ("Preuve", "Evidence"),
    "download_file": ("Télécharger le fichier", "Download the file"),
    "open_link": ("Ouvrir le lien", "Open the link"),
    "verify_title": ("Vérifier un badge", "Verify a badge"),
    "verify_intro": ("Déposez l'image d'un badge (PNG ou SVG) ou un fichier de badge, ou collez un badge "
                     "(JSON ou JWT) ou l'adresse d'un badge Open Badges 2.0.",
                     "Drop a badge image (PNG or SVG) or a badge file, or paste a badge (JSON or JWT) or "
                     "the address of an Open Badges 2.0 badge."),
    "verify_file": ("Fichier du badge", "Badge file"),
    "verify_text": ("Badge (JSON, JWT) ou adresse", "Badge (JSON, JWT) or address"),
    "verify_button": ("Vérifier", "Verify"),
    "verify_error": ("Impossible de vérifier", "Cannot verify"),
    "verify_recipient": ("Adresse e-mail ou DID du titulaire (facultatif)",
                         "The holder's e-mail address or DID (optional)"),
    "verify_recipient_hint": ("Si vous la donnez, nous vérifions aussi que le badge a été délivré à cette personne.",
                              "If you give it, we also check that the badge was issued to this person."),
    "verify_or": ("ou", "or"),
    "verify_text_hint": ("Collez le badge (JSON ou JWT), ou l'adresse d'un badge (https://…).",
                         "Paste the badge (JSON or JWT), or a badge's address (https://…)."),
    "verify_file_hint": ("Image de badge PNG ou SVG, ou fichier JSON ou JWT.",
                         "A PNG or SVG badge image, or a JSON or JWT file."),
    "verify_nothing": ("Choisissez un fichier de badge ou collez un badge ou son adresse.",
                       "Choose a badge file, or paste a badge or its address."),
    "verify_one_input": ("Envoyez soit un fichier, soit un texte, pas les deux.",
                         "Send either a file or a text, not both."),
    "verify_too_large": ("Ce fichier est trop volumineux (au plus {size} Mo).",
                         "This file is too large (at most {size} MB)."),
    "verify_text_too_long": ("Ce texte est trop long (au plus {size} Kio).", "This text is too long (at most {size} KiB)."),
    "verify_unsupported": ("Ce fichier n'est ni une image de badge (PNG, SVG) ni un badge JSON ou JWT.",
                           "This file is neither a badge image (PNG, SVG) nor a JSON or JWT badge."),
    "verify_bad_url": ("Cette adresse n'est pas valable, ou elle désigne un serveur qui n'est pas consulté "
                       "(adresse privée, trop de redirections, document trop grand ou pas un badge).",
                       "This address is not valid, or it points at a server that is not consulted (private "
                       "address, too many redirects, document too large or not a badge)."),
    "verify_unreadable": ("Le contenu envoyé n'a pas pu être lu comme un badge.",
                          "What was sent could not be read as a badge."),
    "verify_rate_limited": ("Trop de vérifications depuis votre adresse : réessayez dans une minute.",
                            "Too many verifications from your address: try again in a minute."),
    "verify_the_issuer": ("l'émetteur", "the issuer"),
    "verify_badge": ("Badge", "Badge"),
    "verify_format": ("Format", "Format"),
    "verify_checks": ("Contrôles effectués", "Checks"),
    "verify_our_page": ("Voir la page de vérification de ce badge", "See this badge's verification page"),
    "verify_again": ("Vérifier un autre badge", "Verify another badge"),
    "verify_privacy": ("Ce que vous envoyez sert à la vérification et n'est pas conservé.",
                       "What you send is used for the verification and is not kept."),
    "skip": ("Aller au contenu", "Skip to content"),
}

MESSAGES.update({f"verdict_{code}": labels for code, labels in VERDICT_LABELS.items()})

_MONTHS = {"fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                  "octobre", "novembre", "décembre"),
           "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")}


class Words:
    """Attribute access to one language's messages, for the templates (``t.verdict_genuine``)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self._index = LANGS.index(lang)

    def __getattr__(self, key: str) -> str:
        try:
            return MESSAGES[key][self._index]
        except KeyError:
            raise AttributeError(key) from None

    def get(self, key: str, **values: Any) -> str:
        """The message ``key`` with its ``{placeholders}`` filled (an unknown key reads as itself)."""
        pair = MESSAGES.get(key)
        text = pair[self._index] if pair else key
        return text.format(**values) if values else text

    def date(self, value: datetime | None) -> str:
        """A date in words: « 1 juin 2026 », "1 June 2026"."""
        if value is None:
            return ""
        return f"{value.day} {_MONTHS[self.lang][value.month - 1]} {value.year}"


def current_lang() -> str:
    """``?lang=`` first, then the browser's Accept-Language, then French."""
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    return request.accept_languages.best_match(list(LANGS)) or "fr"
