"""Selling leads to buyers: buyers with filters, prices, caps and funds; delivery by HTTP
(JSON, XML, name-value pairs) and e-mail; ping-post auctions with a waterfall; returns; and a
ledger per buyer. A capability of the distribution app: its tables are in that app's
migrations, and routing sends a lead here through a rule whose action is "sell"."""
