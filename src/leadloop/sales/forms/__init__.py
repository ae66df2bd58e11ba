"""The forms of the sales follow-up pages; each page's in its own module."""
