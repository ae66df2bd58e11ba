"""The webhooks app's verbs: subscriptions (subscriptions.py), writing events to the outbox in
the caller's transaction (outbox.py), and sending them signed with retries (sending.py)."""
