"""The sales pages' forms; each page's in its own module."""
