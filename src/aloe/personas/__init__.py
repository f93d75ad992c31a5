"""Persona pool: seeds, iterative self-generation, filtering, composition, splits."""

KINDS = ("profile", "personality")
