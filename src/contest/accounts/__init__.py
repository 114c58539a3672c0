"""Accounts: users and roles, database-backed sessions, login throttling, route guards."""
