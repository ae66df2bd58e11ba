"""Reads for the reports, each scoped to what the viewer may see (`scope`)."""
