"""`leadloop webhooks …`: subscribe endpoints, look at the delivery log, replay, send a test."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand
from leadloop.webhooks import selectors
from leadloop.webhooks.catalog import EVENT_TYPES
from leadloop.webhooks.models import DeliveryState
from leadloop.webhooks.services import sending
from leadloop.webhooks.services import subscriptions as services


class Command(LeadloopCommand):
    help = (
        "Outbound webhooks: list, add URL --events a,b, remove ID, pause ID, resume ID, test ID, "
        "deliveries [--subscription ID] [--state failed], replay DELIVERY_ID, replay-failed ID, "
        "send-due (what is due now), event-types."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "action",
            choices=[
                "list", "add", "remove", "pause", "resume", "test", "deliveries", "replay",
                "replay-failed", "send-due", "event-types",
            ],
        )  # fmt: skip
        parser.add_argument("target", nargs="?", help="A URL (add) or an id.")
        parser.add_argument("--events", default="", help="Comma-separated event types (add).")
        parser.add_argument("--description", default="")
        parser.add_argument("--subscription", type=int, help="deliveries: of this webhook.")
        parser.add_argument("--state", choices=DeliveryState.values, help="deliveries: in state.")
        parser.add_argument("--limit", type=int, default=50)

    def _id(self, options: dict[str, Any]) -> int:
        target = options.get("target") or ""
        if not target.isdigit():
            raise CommandError("Give the id as the second argument.")
        return int(target)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        handler = getattr(self, "_" + action.replace("-", "_"))
        handler(options)

    def _event_types(self, options: dict[str, Any]) -> None:
        rows = [{"type": name, "description": str(text)} for name, text in EVENT_TYPES.items()]
        self.emit(options, rows, "\n".join(f"{r['type']:<24} {r['description']}" for r in rows))

    def _list(self, options: dict[str, Any]) -> None:
        rows = [
            {
                "id": item.pk,
                "url": item.url,
                "events": item.events,
                "active": item.is_active,
                "waiting": getattr(item, "waiting", 0),
                "failed": getattr(item, "failed", 0),
            }
            for item in selectors.list_subscriptions_for(CLI)
        ]
        lines = [
            f"{r['id']:>4}  {'on ' if r['active'] else 'off'}  {r['url']}  "
            f"[{', '.join(r['events'])}]  waiting {r['waiting']}, gave up {r['failed']}"
            for r in rows
        ]
        self.emit(options, rows, "\n".join(lines) or "No webhooks.")

    def _add(self, options: dict[str, Any]) -> None:
        events = [name.strip() for name in options["events"].split(",") if name.strip()]
        item, secret = services.create_subscription(
            by=CLI,
            url=options.get("target") or "",
            events=events,
            description=options["description"],
        )
        self.emit(
            options,
            {"id": item.pk, "url": item.url, "events": item.events, "secret": secret},
            f"Webhook {item.pk} → {item.url}\nSigning secret (shown once): {secret}",
        )

    def _remove(self, options: dict[str, Any]) -> None:
        item = selectors.get_subscription_for(CLI, self._id(options))
        services.delete_subscription(item, by=CLI)
        self.emit(options, {"deleted": item.pk}, f"Webhook {item.pk} deleted.")

    def _pause(self, options: dict[str, Any], active: bool = False) -> None:
        item = selectors.get_subscription_for(CLI, self._id(options))
        services.update_subscription(item, by=CLI, is_active=active)
        state = "active" if active else "paused"
        self.emit(options, {"id": item.pk, "active": active}, f"Webhook {item.pk} {state}.")

    def _resume(self, options: dict[str, Any]) -> None:
        self._pause(options, active=True)

    def _test(self, options: dict[str, Any]) -> None:
        item = selectors.get_subscription_for(CLI, self._id(options))
        delivery = services.send_test(item, by=CLI)
        self.emit(
            options,
            {"delivery": delivery.pk, "state": delivery.state, "status": delivery.last_status},
            f"Test delivery {delivery.pk}: {delivery.state}"
            + (f", HTTP {delivery.last_status}" if delivery.last_status else "")
            + (f" ({delivery.last_error})" if delivery.last_error else ""),
        )
        if delivery.state != DeliveryState.DELIVERED:
            raise CommandError("The endpoint did not accept the test event.")

    def _deliveries(self, options: dict[str, Any]) -> None:
        found = selectors.list_deliveries_for(
            CLI, subscription_id=options["subscription"], state=options["state"]
        )[: max(1, min(options["limit"], 1000))]
        rows = [
            {
                "id": d.pk,
                "subscription": d.subscription_id,
                "type": d.message.type,
                "lead_id": d.message.lead_id,
                "state": d.state,
                "attempts": d.attempts,
                "last_status": d.last_status,
                "last_error": d.last_error,
                "created_at": d.created_at,
            }
            for d in found
        ]
        lines = [
            f"{r['id']:>6}  {r['created_at']:%Y-%m-%d %H:%M:%S}  {r['type']:<22} "
            f"lead {r['lead_id'] or '-':<7} {r['state']:<9} tries {r['attempts']}  "
            f"{r['last_status'] or ''} {r['last_error']}".rstrip()
            for r in rows
        ]
        self.emit(options, rows, "\n".join(lines) or "No deliveries.")

    def _replay(self, options: dict[str, Any]) -> None:
        delivery = services.replay(selectors.get_delivery_for(CLI, self._id(options)), by=CLI)
        self.emit(options, {"delivery": delivery.pk}, f"Delivery {delivery.pk} is sent again.")

    def _replay_failed(self, options: dict[str, Any]) -> None:
        item = selectors.get_subscription_for(CLI, self._id(options))
        count = services.replay_failed(item, by=CLI)
        self.emit(options, {"replayed": count}, f"{count} deliveries are sent again.")

    def _send_due(self, options: dict[str, Any]) -> None:
        sent = sending.send_due()
        self.emit(options, {"delivered": sent}, f"Delivered {sent}.")
