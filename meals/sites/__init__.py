"""Sites: the central kitchen (depot), community canteens and meal points, and their vans."""
