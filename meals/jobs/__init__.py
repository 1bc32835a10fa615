"""Scheduled and background work on a job queue (procrastinate on PostgreSQL, in-process on
SQLite): publishing menus ahead, expanding standing orders, alerts, webhooks, month close."""
