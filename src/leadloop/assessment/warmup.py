"""Load what assessment reads on its first lead before the first request arrives.

The user-agent rules (~0.8 s), the offline ASN file (~0.25 s), scikit-learn for the predictive
model (~2 s) and the address data load on first use. In a web worker that first use is a
sender's request, which then waits seconds; `warm_up()` runs when the WSGI app is loaded.
"""

from __future__ import annotations

import importlib
import logging
import time

logger = logging.getLogger(__name__)

_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def warm_up() -> float:
    """Import and load the assessment's offline data; returns the seconds it took.

    A failure here is logged and the first lead loads what it needs instead: serving must not
    depend on warming up.
    """
    started = time.perf_counter()
    try:
        importlib.import_module("leadloop.assessment.predictive.services")  # scikit-learn
        device = importlib.import_module("leadloop.assessment.stages.device")
        verify = importlib.import_module("leadloop.assessment.stages.verify")
        device._browser(_AGENT)
        device._asn_name("8.8.8.8")
        verify._postal_pattern("NL")
    except Exception:
        logger.exception("assessment warm-up failed")
    seconds = time.perf_counter() - started
    logger.info("assessment warmed up seconds=%.2f", seconds)
    return seconds
