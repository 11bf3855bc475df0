"""The one place that speaks SQL: connection, migrations and repositories."""
