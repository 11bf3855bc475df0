"""The PostgreSQL backend: a pooled database speaking the repositories' SQL, its migrations."""
