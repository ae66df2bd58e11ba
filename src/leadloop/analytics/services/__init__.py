"""Analytics writes only its own derived tables: the lead facts and the KPI norms."""
