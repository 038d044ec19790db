"""Synthetic PrIMuS-like incipits: random Plaine & Easie code rendered with Verovio, labels from its MEI."""
