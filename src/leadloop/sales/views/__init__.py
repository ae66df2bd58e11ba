"""The sales follow-up pages: my day, the pipeline, the team's view and the rules."""
