"""Dishes, set meals and the menus each site publishes per date and slot."""
