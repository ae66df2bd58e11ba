import datetime as dt

from leadloop.core.schedule import SCHEDULE


def test_each_app_registers_its_periodic_jobs_once_with_its_interval():
    jobs = [(spec.name, spec.every) for spec in SCHEDULE]

    assert jobs == [
        ("prune_task_results", dt.timedelta(hours=24)),
        ("requeue_stalled_tasks", dt.timedelta(minutes=5)),
        ("prune_rate_counters", dt.timedelta(hours=1)),
        ("optimize_database", dt.timedelta(hours=24)),
        ("send_notification_mail", dt.timedelta(minutes=1)),
        ("send_notification_digests", dt.timedelta(hours=1)),
        ("send_webhooks", dt.timedelta(minutes=1)),
        ("prune_webhook_log", dt.timedelta(hours=24)),
        ("process_orphaned_submissions", dt.timedelta(minutes=1)),
        ("poll_feeds", dt.timedelta(minutes=10)),
        ("poll_ftp", dt.timedelta(minutes=5)),
        ("poll_imap", dt.timedelta(minutes=2)),
        ("refresh_scores", dt.timedelta(hours=1)),
        ("assess_pending", dt.timedelta(minutes=1)),
        ("apply_retention", dt.timedelta(hours=24)),
        ("recover_sales", dt.timedelta(minutes=1)),
        ("send_buyer_batches", dt.timedelta(hours=1)),
        ("prune_delivery_log", dt.timedelta(days=1)),
        ("route_waiting", dt.timedelta(minutes=5)),
        ("expire_partner_offers", dt.timedelta(minutes=5)),
        ("alert_unclaimed", dt.timedelta(minutes=15)),
        ("check_first_contact", dt.timedelta(minutes=1)),
        ("send_lead_emails", dt.timedelta(minutes=1)),
        ("fold_pipeline_totals", dt.timedelta(minutes=1)),
        ("send_marketing_mail", dt.timedelta(minutes=1)),
        ("process_tracking_hits", dt.timedelta(minutes=1)),
        ("read_bounce_mailbox", dt.timedelta(minutes=2)),
        ("run_workflow_steps", dt.timedelta(minutes=1)),
        ("enroll_missed_workflow_leads", dt.timedelta(minutes=10)),
        ("refresh_lead_facts", dt.timedelta(minutes=1)),
        ("evaluate_alerts", dt.timedelta(minutes=15)),
        ("send_weekly_reports", dt.timedelta(hours=1)),
    ]


def test_each_job_runs_the_task_of_the_app_that_registered_it():
    modules = {spec.name: spec.task.module_path.rsplit(".", 1)[0] for spec in SCHEDULE}

    assert modules["optimize_database"] == "leadloop.core.tasks"
    assert modules["poll_imap"] == "leadloop.intake.tasks"
    assert modules["assess_pending"] == "leadloop.assessment.tasks"
    assert modules["apply_retention"] == "leadloop.privacy.tasks"
    assert modules["route_waiting"] == "leadloop.distribution.tasks"
