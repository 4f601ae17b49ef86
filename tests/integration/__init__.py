"""Tests across apps on the real services: every route scoped to its stores, generated bodies at the machine
endpoints, Postgres and Redis failing mid-work, and a store's morning end to end on real data."""
