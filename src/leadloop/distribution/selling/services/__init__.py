"""The verbs of the lead market: set up buyers, sell leads, deliver, return, keep the money."""
