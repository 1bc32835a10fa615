"""Delivery day: route plans, driver runs, delivery confirmation and welfare alerts."""
