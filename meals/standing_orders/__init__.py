"""Standing orders (订餐周期): repeat bookings by weekday, with pauses."""
