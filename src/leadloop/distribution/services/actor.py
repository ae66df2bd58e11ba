"""Who routing acts as: the timeline and the audit log name it "routing"."""

from leadloop.accounts.actors import SystemActor

ROUTING = SystemActor(label="routing")
