"""Tables, queries and migrations. SQLite (WAL) by default, PostgreSQL in production."""
