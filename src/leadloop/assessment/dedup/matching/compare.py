"""How sure we are that two people are one: a score and the reasons for it."""

from __future__ import annotations

from leadloop.assessment.dedup.matching.fields import (
    CLOSE,
    DIFFERENT,
    EXACT,
    FIRST,
    HOUSE,
    LAST,
    describe,
    levels,
    name_levels,
)
from leadloop.assessment.dedup.matching.model import MatchModel, current
from leadloop.assessment.dedup.matching.names import (
    AGREE,
    CONFLICT,
    UNSURE,
    _last_name_similarity,
    _name_pair,
    _similar,
)
from leadloop.assessment.dedup.matching.person import DUPLICATE_AT, Person

# The name-and-address probability shown and acted on is at most this: a model is never certain.
MAX_PROBABILITY = 0.99


def name_similarity(a: Person, b: Person) -> tuple[float, str, int]:
    """0–1, a note ("names swapped", "nickname", "initial") and how far the names agree; the
    score is 0 (and they agree) when either has no name."""
    if not (a.last or a.first) or not (b.last or b.first):
        return 0.0, "", AGREE
    if a.first and a.last and b.first and b.last:
        direct = _name_pair(a.first, a.last, b.first, b.last)
        if direct[0] >= 0.95:
            return direct
        swapped = _name_pair(a.first, a.last, b.last, b.first)
        if swapped[0] > direct[0]:
            return swapped[0], "names swapped", swapped[2]
        return direct
    # One side gave only one name: compare what is there, a little less sure.
    names_a = [n for n in (a.last, a.first) if n]
    names_b = [n for n in (b.last, b.first) if n]
    best = max(_last_name_similarity(x, y) for x in names_a for y in names_b)
    return best * 0.9, "", AGREE if best >= 0.7 else CONFLICT


# --- Scoring -------------------------------------------------------------------------------------


def _contact(base: float, agree: int) -> float:
    """A shared e-mail or phone is the same person unless the names say otherwise (a family
    mailbox, a company switchboard); with names half alike it takes two such signs."""
    return base if agree == AGREE else 0.8 if agree == UNSURE else 0.7


def _place(a: Person, b: Person) -> tuple[float, str]:
    """How strongly address or employer ties two people together (to be weighed with the name)."""
    same_house = bool(a.house) and a.house == b.house
    if a.postal and a.postal == b.postal:
        if same_house:
            return 1.0, "same postal code and house number"
        if a.house and b.house:
            return 0.8, "same postal code"
        return 0.93, "same postal code"
    street = bool(a.street) and bool(b.street) and _similar(a.street, b.street) >= 0.85
    if street and same_house and (a.city == b.city or not (a.postal and b.postal)):
        return 0.98, "same address"
    if a.organization_id is not None and a.organization_id == b.organization_id:
        return 0.93, "same organisation"
    if a.company and b.company and _similar(a.company, b.company) >= 0.9:
        return 0.92, "same company"
    local_a, local_b = a.email_key.partition("@")[0], b.email_key.partition("@")[0]
    if len(local_a) >= 6 and local_a == local_b:
        return 0.9, "same e-mail name"
    if street and a.city and a.city == b.city:
        return 0.88, "same street"
    if a.city and a.city == b.city:
        return 0.7, "same city"
    return 0.6, ""


def name_and_address(
    a: Person, b: Person, model: MatchModel | None = None
) -> tuple[float, tuple[int, ...], bool]:
    """The Fellegi–Sunter match weight of two people's names and address fields, their level
    vector, and whether first and last names were compared swapped (the better arrangement)."""
    model = model or current()
    direct = levels(a.keys, b.keys)
    weight = model.weight(direct)
    names_agree = direct[FIRST] in (EXACT, CLOSE) and direct[LAST] in (EXACT, CLOSE)
    # Swapped too when the names do not agree, also when a side gave one name only: a lone
    # name may stand in either field ('Hanegraaff' as the first name, 'Nynke Hanegraaff').
    if not names_agree and (a.keys.first or a.keys.last) and (b.keys.first or b.keys.last):
        swapped = (*name_levels(a.keys, b.keys, swapped=True), *direct[HOUSE:])
        swapped_weight = model.weight(swapped)
        if swapped_weight > weight:
            return swapped_weight, swapped, True
    return weight, direct, False


def _modelled(a: Person, b: Person) -> tuple[float, str]:
    """The probability that the name and address say one person, with its reason.

    First names both given and clearly different (no typo, nickname or initial explains them)
    make it 0: family members share a surname and an address, which the model, weighing the
    fields as independent signs, would otherwise count many times over. So does a name without
    any address field to compare: namesakes are common, and the rules weigh that case.
    """
    model = current()
    weight, level_vector, swapped = name_and_address(a, b, model)
    if level_vector[FIRST] == DIFFERENT or not any(level_vector[HOUSE:]):
        return 0.0, ""
    probability = min(MAX_PROBABILITY, round(model.probability(weight), 3))
    note = " (names swapped)" if swapped else ""
    return probability, f"name and address{note}: {describe(level_vector)} (weight {weight:.1f})"


def score(a: Person, b: Person) -> tuple[float, tuple[str, ...]]:
    """How sure we are that `a` and `b` are one person (0–1), and the reasons, strongest first."""
    name, note, agree = name_similarity(a, b)
    evidence: list[tuple[float, str]] = []
    if a.email and a.email == b.email:
        evidence.append((_contact(0.97, agree), "same e-mail"))
    elif a.email_key and a.email_key == b.email_key:
        evidence.append((_contact(0.95, agree), "same e-mail (ignoring dots and +tags)"))
    if a.phone and a.phone == b.phone:
        evidence.append((_contact(0.95, agree), "same phone"))
    elif a.phone_tail and a.phone_tail == b.phone_tail:
        evidence.append((_contact(0.9, agree), "same phone (last 9 digits)"))
    if name:
        weight, where = _place(a, b)
        label = f"name {name:.2f}" + (f" ({note})" if note else "")
        ruled = weight * name
        # The model is for people known by name and address alone: it weighs a pair when one of
        # the two has no e-mail or phone, no contact value is shared, and the name and place do
        # not already make a duplicate by the rules. Pairs that both carry contact values are
        # scored by the rules as they always were, which keeps a lookup for a lead with an
        # e-mail or phone as cheap as before.
        anonymous = not (a.email or a.phone) or not (b.email or b.phone)
        needed = anonymous and not evidence and ruled < DUPLICATE_AT
        modelled, why = _modelled(a, b) if needed else (0.0, "")
        if modelled > ruled:
            evidence.append((modelled, why))
        else:
            evidence.append((ruled, f"{label} + {where}" if where else label))
    if not evidence:
        return 0.0, ()
    evidence.sort(key=lambda e: e[0], reverse=True)
    best = evidence[0][0]
    if len(evidence) > 1 and evidence[1][0] >= 0.7:
        # A second, independent sign adds a little: never enough to lift a weak match alone.
        # A name that differs (at most 0.6) is no second sign: families share an address.
        best = min(0.99, best + (1 - best) * evidence[1][0] * 0.5)
    return round(best, 3), tuple(reason for _, reason in evidence)
