"""The demo data set behind `leadloop demo` and `make run`: a year of a lead business.

It sits above every app and builds its leads through their services, so a newcomer sees each
capability working on the first login, in English and Dutch. Nothing in the product imports it.
"""
