"""meals package."""
