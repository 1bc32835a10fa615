"""Server-rendered pages for seniors, families and meal-point staff (zh-CN / English)."""
