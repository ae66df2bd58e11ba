"""Who routing acts as: the timeline and the audit log name it "routing"."""

from leadloop.accounts.actors import SystemActor

ROUTING = SystemActor(label="routing")
# How routing's moves are named in the `assigned` event: routing tells their receivers itself.
VIA_ROUTING = "routing"
