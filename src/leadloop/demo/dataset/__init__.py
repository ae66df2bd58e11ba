"""The demo data set: a year of a Dutch/English lead business, the same data for the same seed.

Reference data (users, teams, a partner, sources, campaigns, costs, organisations) goes through the
real services. Leads and their timelines are written with raw multi-row inserts (COPY on
PostgreSQL) in chunks, because a million leads through the ORM would take an hour: Faker builds
small pools of names and addresses once, random.Random(seed) combines them, phone numbers come
from number ranges that libphonenumber accepts, and every row matches what the services would
have written (derived columns from leads' `derived_values`, status moves from
lifecycle.ALLOWED_MOVES, timeline entries in the shape `transition` and `assign_lead` write).
Each chunk publishes its `lead_created` events in one batch, as the batch import does.
"""

from leadloop.demo.dataset.loading import load_demo
from leadloop.demo.dataset.reference import DemoResult
from leadloop.demo.dataset.world import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "DemoResult", "load_demo"]
