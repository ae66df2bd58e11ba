"""Leadloop: one database for every lead, and a closed loop around it."""

__version__ = "0.1.0"
