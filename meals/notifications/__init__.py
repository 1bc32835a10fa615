"""Families are told: notices for a senior's bound family, shown on the page and sent."""
