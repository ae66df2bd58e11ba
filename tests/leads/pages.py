"""What the lead pages' tests read from the HTML."""

from __future__ import annotations

import re

from django.urls import reverse

LIST = reverse("leads:lead-list")
HTMX = {"HX-Request": "true"}


def names(response) -> list[str]:
    """The lead names in the list's rows, in order."""
    return re.findall(r'class="lead-link"[^>]*>.*?<strong>(.*?)</strong>', response.text, re.S)
