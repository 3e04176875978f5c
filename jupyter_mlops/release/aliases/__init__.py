"""Rollout state kept in registry aliases (candidate, staging, canary, champion, previous)."""
