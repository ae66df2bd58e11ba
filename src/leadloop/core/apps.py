from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadloop.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from datetime import timedelta

        from django.core import checks

        from leadloop.core import schedule
        from leadloop.core.csp import check_form_frame_ancestors

        checks.register(check_form_frame_ancestors, checks.Tags.security)

        schedule.register(
            schedule.PeriodicSpec(
                "prune_task_results",
                timedelta(hours=24),
                "leadloop.core.tasks.prune_task_results_task",
            ),
            schedule.PeriodicSpec(
                "requeue_stalled_tasks",
                timedelta(minutes=5),
                "leadloop.core.tasks.requeue_stalled_tasks_task",
            ),
            schedule.PeriodicSpec(
                "prune_rate_counters",
                timedelta(hours=1),
                "leadloop.core.tasks.prune_rate_counters_task",
            ),
            schedule.PeriodicSpec(
                "optimize_database",
                timedelta(hours=24),
                "leadloop.core.tasks.optimize_database_task",
            ),
        )
