"""Plain typed functions per area; they take and return plain values and raise db.errors."""
