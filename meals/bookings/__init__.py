"""Bookings: one senior, one date, one slot, one set meal, one fulfilment."""
