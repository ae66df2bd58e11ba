"""The analytics pages under /analytics/."""
