"""Kitchen production: recipes in the database, frozen production runs and the kitchen sheets.

The planning itself is ``kitchen.plan_production``; this package feeds it from the database
(``adapter``), freezes its result per date and slot (``service``) and shows it (``api``).
"""
