"""De-duplication: which existing leads look like the same person, how sure we are, and why.

Two steps, so a lookup stays cheap at millions of leads:

1. **Blocking** — one SQL statement fetches a few dozen candidate rows through indexed columns
   only: the e-mail (`lead_email`), the E.164 phone (`lead_phone`), the postal code
   (`lead_postal_code`), the organisation (`lead_org_created`) and the folded last name
   (`lead_name_key`, asked for both the last and the first name so swapped names are found);
   for a lead without an e-mail or phone also the address key (`lead_address_key`: house number
   and the start of the street), the street key (`lead_street_name_key`: start of the street and
   the surname's initial), the house key (`lead_house_name_key`: house number and the start of
   the first name) and the neighbouring name keys in index order. Every block is capped at
   `BLOCK_LIMIT` rows (the newest), so a shared mailbox or a common surname cannot make one
   lookup slow.
2. **Scoring** — each candidate is compared field by field (rapidfuzz for names, streets and
   company names) into a score from 0 to 1 with short reasons ("same e-mail", "name 0.93 + same
   postal code and house number"). A pair known by name and address alone is also weighed by a
   Fellegi–Sunter model with learned weights (fields.py, model.py).

Device signals (IP address, device fingerprint) are never read here: two people behind one office
router are two people. They are fraud evidence only (stages/fraud.py).

Thresholds (measured with bench/dedup_quality.py and bench/dedup_names.py, see
docs/deduplication.md; for the name-and-address model the score is its match probability, and
its F1 is flat from 0.7 to 0.85 with precision 0.999-1.00 from 0.8):
- `DUPLICATE_AT` (0.85): the same person. At intake the source's policy merges, flags or allows
  it; the database scan opens a pair for review.
- `CANDIDATE_AT` (0.60): similar enough to show as a candidate, never acted on by itself.
"""

from leadloop.assessment.dedup.matching.blocking import (
    best_matches,
    candidate_rows,
    dismissed_partners,
    find_matches,
)
from leadloop.assessment.dedup.matching.compare import name_similarity, score
from leadloop.assessment.dedup.matching.names import (
    AGREE,
    CONFLICT,
    NICKNAMES,
    PARTICLES,
    UNSURE,
    fold,
    name_key,
)
from leadloop.assessment.dedup.matching.person import (
    BLOCK_LIMIT,
    CANDIDATE_AT,
    COLUMNS,
    DUPLICATE_AT,
    NAME_BLOCK_LIMIT,
    ORGANIZATION_BLOCK_LIMIT,
    Person,
    email_key,
    person_of,
    postal_key,
    postal_variants,
)
from leadloop.assessment.dedup.matching.scan import ScanResult, find_duplicate_pairs, iter_scan

__all__ = [
    "AGREE",
    "BLOCK_LIMIT",
    "CANDIDATE_AT",
    "COLUMNS",
    "CONFLICT",
    "DUPLICATE_AT",
    "NAME_BLOCK_LIMIT",
    "NICKNAMES",
    "ORGANIZATION_BLOCK_LIMIT",
    "PARTICLES",
    "UNSURE",
    "Person",
    "ScanResult",
    "best_matches",
    "candidate_rows",
    "dismissed_partners",
    "email_key",
    "find_duplicate_pairs",
    "find_matches",
    "fold",
    "iter_scan",
    "name_key",
    "name_similarity",
    "person_of",
    "postal_key",
    "postal_variants",
    "score",
]
