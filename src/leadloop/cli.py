"""The `leadloop` command: Django's management commands under friendly names.

leadloop serve | worker | demo | createuser | sources | migrate | …   (leadloop help lists all)
"""

from __future__ import annotations

import os
import sys

FRIENDLY = {
    "serve": "Serve the web app (granian, WSGI) together with a task worker.",
    "worker": "Run queued background tasks and the periodic schedule.",
    "demo": "Load a realistic, deterministic demo data set.",
    "createuser": "Create a user with a role (optionally with an API key).",
    "apikeys": "List, create or revoke users' API keys.",
    "audit": "Read the audit log: who viewed, exported or changed what.",
    "unlock": "Lift a login lockout of a user or an address.",
    "defaults": "Show or set the deployment's language, country, currency and time zone.",
    "partners": "Partner organisations and the lead fields their users see.",
    "sources": "List, create, rotate or revoke lead sources and their keys.",
    "migrate": "Create or update the database tables.",
    "backup": "Back up the database while serving (SQLite online backup, or pg_dump).",
    "submissions": "The intake queue: list, show and reprocess what arrived.",
    "import": "Import leads from a CSV, TSV, XLSX, XLS or ODS file.",
    "smtpd": "Receive lead mails over SMTP.",
    "import-mail": "Import lead mails from an .eml or mbox file.",
    "poll-feeds": "Poll the RSS/Atom feeds of feed sources now.",
    "poll-ftp": "Poll the FTP drop folders of FTP sources now.",
    "reassess": "Assess leads again (verify, fraud, dedup, scores, readiness).",
    "duplicates": "Find likely duplicate leads in the whole database (and export the pairs).",
    "scoring": "Train the predictive model on closed leads, or score open leads with it.",
    "enrich": "Run the web-service enrichment providers for leads now.",
    "rules": "Routing rules: list, show, test, dry-run, export, import, publish.",
    "route": "Route a sales-ready lead (--id N) or every waiting one (--pending) now.",
    "buyers": "Lead buyers: list, test BUYER --lead N [--send], statement BUYER, verify.",
    "sell": "Sell a lead to the buyers now (--id N), or --dry-run to see who would buy it.",
    "fake-buyer": "A local test buyer for trying integrations (--port N --behaviour B).",
    "webhooks": "Outbound webhooks: list, add, pause, test, deliveries, replay.",
    "sla": "First-contact clocks: check (the sweep, once) or status [--team T].",
    "privacy": "A person's data: export, erase, objections; retention rules.",
    "secrets": "Stored channel passwords: generate-key, rotate (re-encrypt), list.",
    "tasks": "Follow-up tasks: overdue [--team T] lists the open tasks past due.",
    "mail": "Marketing e-mail: test ADDRESS, send-waiting, bounce FILE, bounce-poll/-listener.",
    "surveys": "Surveys: list, or link LEAD SURVEY prints a lead's survey link.",
    "calls": "Telemarketing: list call lists, add leads to one, stats per agent.",
    "report": "Analytics: sources | kpis | impact | attribution | outcomes --period P.",
    "analytics": "The facts and day totals the reports read: refresh, verify, rebuild, lag.",
}


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    if len(argv) < 2 or argv[1] in {"-h", "--help"}:
        print("usage: leadloop COMMAND [options]   (leadloop COMMAND --help for its options)\n")
        for name, text in FRIENDLY.items():
            print(f"  {name:<13} {text}")
        print("\n  help          Every command, including Django's own.")
        return
    from django.core.management import execute_from_command_line

    # Friendly names use hyphens; Django's command modules cannot ("import-mail" → import_mail).
    if not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")

    try:
        execute_from_command_line(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`leadloop report … | head`): stop quietly, as other tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)


if __name__ == "__main__":
    main()
