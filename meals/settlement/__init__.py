"""Month-end settlement (据实结算): figures from meals served, month close, exports."""
