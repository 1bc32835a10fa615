"""Accounts, roles, family bindings, staff scopes and login."""
