"""The supervision board (一张图) for the operator and civil affairs."""
