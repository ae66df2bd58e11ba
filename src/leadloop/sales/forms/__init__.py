"""The forms of the sales pages, one module per page."""
