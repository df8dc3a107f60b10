"""Enrolled artists: stored embeddings (SQLite or PostgreSQL), scored apart from the network."""
