"""Names: folding, keys, nicknames, particles, and how far two names agree."""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import Indel

from leadloop.leads.normalize import name_key as name_key

# --- Names ---------------------------------------------------------------------------------------

# Formal first name → the short forms people also go by. A short form matches its formal name,
# not another short form of it ("Jan" is "Johannes" and "Hans" is "Johannes", but Jan is not Hans).
NICKNAMES: dict[str, tuple[str, ...]] = {
    "abraham": ("bram", "abe"),
    "adrianus": ("adrie", "arie", "ad", "janus"),
    "albert": ("bert", "al"),
    "alexander": ("alex", "sander", "xander", "sasha"),
    "alexandra": ("alex", "sandra", "sasha"),
    "andrew": ("andy", "drew"),
    "anna": ("anne", "annie", "anja", "ans"),
    "anthony": ("tony",),
    "antonius": ("toon", "ton", "teun", "antoon"),
    "barbara": ("barb", "babs"),
    "benjamin": ("ben", "benny"),
    "catharina": ("cathy", "toos", "tina", "ina", "rina", "karin"),
    "catherine": ("kate", "katie", "cathy", "kathy", "cat"),
    "charles": ("charlie", "chuck"),
    "christiaan": ("chris", "stijn"),
    "christina": ("chris", "tina", "christine"),
    "christopher": ("chris", "kit"),
    "cornelis": ("kees", "cor", "niels"),
    "cornelia": ("corrie", "cor", "nel", "nelly"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davy"),
    "dirk": ("dick", "dik"),
    "edward": ("ed", "eddie", "ted", "ned"),
    "elisabeth": ("lisa", "liz", "beth", "betty", "els", "elly", "lies", "elise", "liesbeth"),
    "elizabeth": ("liz", "lizzy", "beth", "betty", "eliza", "lisa"),
    "franciscus": ("frans", "frank", "sjef"),
    "frederik": ("fred", "freek", "frits", "rik"),
    "gerardus": ("gerard", "gert", "geert", "gerrit", "ger", "sjra"),
    "hendrik": ("henk", "henny", "rik", "hein", "dirk"),
    "henricus": ("henk", "harrie", "rik"),
    "henry": ("harry", "hank"),
    "jacobus": ("jaap", "koos", "sjaak", "co"),
    "jacob": ("jaap", "jake", "koos"),
    "james": ("jim", "jimmy", "jamie"),
    "johanna": ("hanna", "hannie", "anneke", "joke", "jo", "jannie", "annie"),
    "johannes": ("jan", "hans", "johan", "joop", "hannes", "jo", "john"),
    "john": ("johnny", "jack"),
    "joseph": ("joe", "joey", "jos"),
    "katherine": ("kate", "katie", "kathy", "kat"),
    "lambertus": ("bert", "lammert"),
    "margaretha": ("greet", "grietje", "margriet", "marga", "gretha", "margo"),
    "margaret": ("maggie", "meg", "peggy", "marge", "greta"),
    "maria": ("marie", "mia", "mies", "ria", "marja", "mary"),
    "michael": ("mike", "mick", "micha"),
    "nicholas": ("nick", "nicky"),
    "nicolaas": ("klaas", "niek", "nico", "claes"),
    "patricia": ("pat", "patty", "trish"),
    "petrus": ("piet", "peter", "pieter", "peer"),
    "richard": ("rick", "dick", "rich", "richie"),
    "robert": ("bob", "rob", "robbie", "bert", "bobby"),
    "samuel": ("sam", "sammy"),
    "stephen": ("steve", "stevie"),
    "susanna": ("suzanne", "sanne", "sanna", "suus", "susan", "sue"),
    "theodorus": ("theo", "ted", "dorus", "door"),
    "thomas": ("tom", "tommy", "thijs"),
    "wilhelmina": ("willemijn", "mien", "wil", "mina", "willy"),
    "willem": ("wim", "pim", "wil"),
    "william": ("bill", "will", "billy", "willy", "liam"),
    "wilhelmus": ("wim", "willem", "pim"),
}
_FORMALS: dict[str, frozenset[str]] = {}
for _formal, _shorts in NICKNAMES.items():
    for _short in _shorts:
        _FORMALS[_short] = _FORMALS.get(_short, frozenset()) | {_formal}

# Family-name particles that are often left out or written in another place ("Berg, van den").
PARTICLES = frozenset(
    [
        "van",
        "de",
        "der",
        "den",
        "het",
        "ter",
        "ten",
        "te",
        "'t",
        "in",
        "op",
        "von",
        "zu",
        "la",
        "le",
        "du",
        "des",
        "del",
        "della",
        "di",
        "da",
        "dos",
        "das",
        "mc",
    ]
)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")
# Company forms that say nothing about which company it is.
_COMPANY_FORMS = frozenset(
    [
        "bv",
        "b",
        "v",
        "nv",
        "n",
        "v",
        "vof",
        "cv",
        "gmbh",
        "ag",
        "ltd",
        "limited",
        "inc",
        "llc",
        "plc",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bvba",
        "holding",
        "group",
        "groep",
        "the",
        "de",
        "het",
        "and",
        "en",
    ]
)
_GMAIL_LIKE = frozenset({"gmail.com", "googlemail.com"})


def fold(text: str) -> str:
    """Lower case without diacritics (fast path for plain ASCII, which most names are)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _key(text: str) -> str:
    """Folded, letters and digits only, single spaces: 'Van den Berg-Smit' → 'van den berg smit'."""
    folded = fold(text)
    if folded.replace(" ", "").isalnum() and folded.isascii():
        return " ".join(folded.split())
    return _SPACES.sub(" ", _NON_ALNUM.sub(" ", folded)).strip()


def _without_particles(name: str) -> str:
    words = [w for w in name.split(" ") if w not in PARTICLES]
    return " ".join(words) if words else name


def _similar(a: str, b: str) -> float:
    return 1.0 if a == b else Indel.normalized_similarity(a, b)


def _first_name_similarity(a: str, b: str) -> tuple[float, str]:
    """How alike two folded first names are, and a note when a nickname or initial decided it."""
    if a == b:
        return 1.0, ""
    first_a, first_b = a.split(" ", 1)[0], b.split(" ", 1)[0]
    if first_a == first_b:  # "anna maria" and "anna"
        return 0.95, ""
    if first_b in _FORMALS.get(first_a, ()) or first_a in _FORMALS.get(first_b, ()):
        return 0.95, "nickname"
    if (len(first_a) == 1 or len(first_b) == 1) and first_a[:1] == first_b[:1]:
        return 0.85, "initial"
    return _similar(a, b), ""


def _last_name_similarity(a: str, b: str) -> float:
    if a == b:
        return 1.0
    return max(_similar(a, b), _similar(_without_particles(a), _without_particles(b)))


# How far two names agree, for a shared e-mail or phone: a family shares a mailbox or a landline.
AGREE, UNSURE, CONFLICT = 2, 1, 0


def _name_pair(first_a: str, last_a: str, first_b: str, last_b: str) -> tuple[float, str, int]:
    """Both names known on both sides: first names must agree too (a family shares the rest)."""
    last = _last_name_similarity(last_a, last_b)
    first, note = _first_name_similarity(first_a, first_b)
    score = (last + first) / 2
    if first >= 0.7 and last >= 0.7:
        return score, note, AGREE
    agree = UNSURE if last >= 0.7 and first >= 0.5 else CONFLICT
    return min(score, 0.6), note, agree
