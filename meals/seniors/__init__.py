"""Seniors: who is fed, where, with which diet and which subsidy categories."""
