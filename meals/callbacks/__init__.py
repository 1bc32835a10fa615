"""Monthly satisfaction callbacks (满意度回访): who is called, what they said."""
