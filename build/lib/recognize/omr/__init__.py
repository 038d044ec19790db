"""Monophonic music-score recognition (PrIMuS semantic/agnostic tokens)."""
