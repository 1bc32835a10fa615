"""Subsidy policy: funding sources and their tiers by age band and category."""
