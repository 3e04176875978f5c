"""Lineage: source files -> dataset versions -> runs -> models -> registered versions."""
