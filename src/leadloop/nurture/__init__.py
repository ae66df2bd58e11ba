"""Qualification of leads that are not sales-ready yet (issue 15): marketing e-mail with
tracking (`mail`), surveys (`surveys`), nurture workflows and the telemarketing desk.

Each capability is a package with the inside of an app (models, services, selectors, api,
views); `nurture.models` re-exports their tables so that the app has one set of migrations.
"""
