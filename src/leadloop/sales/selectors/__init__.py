"""Reads for sales follow-up, each scoped to the viewer through lead_visibility."""
