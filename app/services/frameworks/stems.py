"""Words for competency search: stop words, Snowball stems (French, English, Spanish), synonyms.

Both databases search the same way (see ``fts``): a text is folded (no accents, case-folded,
punctuation as spaces, ``query.fold``), split into words, and each word becomes its stem
(PyStemmer, the Snowball algorithms; PostgreSQL's ``french_stem`` etc. are the same algorithms).
A query word then matches a competency when any of its *alternatives* starts a stem of it:

* the word as typed (folded), by its start, so a word being typed ("organi") and codes
  ("rncp30042bc03") match, and so do competencies in no known language, which are indexed unstemmed;
* its stem in each search language, whole ("organiser" → "organis", which finds "organisation";
  "mobiles" → "mobil", which does not find "mobiliser" → "mobilis");
* the words of its synonym group (``synonyms_fr.txt``) by their start (from four letters) and
  their stems, whole. Stop words ("de", "un", "the", "para") are dropped from
queries, unless a query has nothing else. For a long text (the narrative of a contribution) only
the most informative words are kept (``informative_words``), so its query stays as cheap as a
short one.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import Stemmer

from app.services.frameworks.folding import fold

LANGUAGES = ("fr", "en", "es")
_SNOWBALL = {"fr": "french", "en": "english", "es": "spanish"}
MIN_PREFIX = 4
MAX_ALTERNATIVES = 12

# Folded (accent-less) function words of the three languages, dropped from queries.
STOP_WORDS = frozenset(
    """
    a afin ai aie ainsi alors au aucun aupres aussi autre autres aux avec avoir c ca ce ceci cela celle
    celles celui ces cet cette chacun chaque chez ci comme comment d dans de des donc dont du elle elles
    en entre es est et etc etre eu eux il ils j je l la laquelle le lequel les lesquels leur leurs lui m
    ma mais me meme mes moi mon n ne ni nos notre nous on ont ou par parmi pas pendant peu peut plus
    pour pourquoi qu quand que quel quelle quelles quels qui quoi s sa sans se selon ses si sien soi son
    sont sous sur t ta te tes toi ton tous tout toute toutes tres tu un une unes uns vers via vos votre
    vous y
    about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers him his how i if in into is it its itself just me more most my no
    nor not now of off on once only or other our ours out over own same she should so some such than
    that the their theirs them then there these they this those through to too under until up very was
    we were what when where which while who whom why will with would you your yours
    al algo ante antes aquel aquella como con contra cual cuando del desde donde durante el ella ellas
    ellos esa ese eso esta estas este esto estos fue ha han hasta hay la las lo los mas mi mis muy nada
    ni nos nosotros o os otra otro para pero poco por porque que quien se sea segun ser si sin sobre su
    sus tambien tanto te tiene todo todos tu tus un una uno unos usted y ya
    """.split()
)

_local = threading.local()
_SYNONYMS_FILE = Path(__file__).with_name("synonyms_fr.txt")


def _stemmer(language: str) -> Stemmer.Stemmer:
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {code: Stemmer.Stemmer(name, 0) for code, name in _SNOWBALL.items()}
    return stemmers[language]


def language_of(value: str | None) -> str | None:
    """The search language of a stored language tag ("fr", "fr-FR", "FR" → "fr"); None if not searched."""
    code = (value or "")[:2].lower()
    return code if code in _SNOWBALL else None


def stem(word: str, language: str) -> str:
    """The Snowball stem of a folded word in a search language."""
    return str(_stemmer(language).stemWord(word))


def index_words(folded: str, language: str | None) -> str:
    """The stems of a folded text, as the index stores them (unstemmed words for no known language)."""
    if not folded:
        return ""
    if language is None:
        return folded
    return " ".join(_stemmer(language).stemWords(folded.split()))


@lru_cache(maxsize=1)
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    """The synonym groups of ``synonyms_fr.txt``, folded."""
    groups = []
    for line in _SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            groups.append(tuple(dict.fromkeys(fold(line).split())))
    return tuple(groups)


@lru_cache(maxsize=1)
def _synonym_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, tuple[str, ...]] = {}
    for group in synonym_groups():
        for word in group:
            for key in (word, stem(word, "fr")):
                index[key] = tuple(dict.fromkeys(index.get(key, ()) + group))
    return index


def synonyms(word: str) -> tuple[str, ...]:
    """The other words of a folded word's synonym groups (matched by the word or its French stem)."""
    index = _synonym_index()
    found = index.get(word) or index.get(stem(word, "fr")) or ()
    return tuple(w for w in found if w != word)


def words_of(text: str) -> list[str]:
    """The folded words of a text, stop words dropped (all of them kept if nothing else is left)."""
    words = list(dict.fromkeys(fold(text).split()))
    kept = [w for w in words if w not in STOP_WORDS]
    return kept or words


def alternatives(word: str, languages: Sequence[str] = LANGUAGES, *, with_synonyms: bool = True) -> list[Term]:
    """What a folded query word may match: itself by its start, its stems, its synonyms and theirs."""
    terms: dict[str, bool] = {word: True}
    variants = [word, *(synonyms(word) if with_synonyms else ())]
    for n, variant in enumerate(variants):
        if n:
            terms[variant] = terms.get(variant, False) or len(variant) >= MIN_PREFIX
        for language in languages:
            terms.setdefault(stem(variant, language), False)
    # A prefix term makes the longer terms it starts redundant.
    prefixes = [t for t, p in terms.items() if p]
    kept = [Term(t, p) for t, p in terms.items() if not any(other != t and t.startswith(other) for other in prefixes)]
    return kept[:MAX_ALTERNATIVES]


class Term:
    """One index term a query word may match: whole, or as the start of a longer one."""

    __slots__ = ("text", "prefix")

    def __init__(self, text: str, prefix: bool) -> None:
        self.text = text
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"{self.text}{'*' if self.prefix else ''}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Term) and (self.text, self.prefix) == (other.text, other.prefix)

    def __hash__(self) -> int:
        return hash((self.text, self.prefix))


def informative_words(texts: Iterable[tuple[str, int]], limit: int) -> list[tuple[str, int]]:
    """The ``limit`` words that say most about weighted texts (a title counts more than a narrative),
    each with how often it appears (weighted).

    A word scores by how often it appears (weighted), more when it is long (short words are more
    often general ones); words with one French stem count once, under their most frequent form.
    """
    scores: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    for text, weight in texts:
        for word in fold(text).split():
            if word in STOP_WORDS or len(word) < 3 or word.isdigit():
                continue
            key = stem(word, "fr")
            scores[key] += weight
            forms.setdefault(key, Counter())[word] += 1
    ranked = sorted(scores, key=lambda k: (-scores[k] * min(len(k), 8), k))
    return [(forms[k].most_common(1)[0][0], scores[k]) for k in ranked[:limit]]
