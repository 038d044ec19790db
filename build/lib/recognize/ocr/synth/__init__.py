"""Synthetic printed text-line generator for OCR training (fonts x text x scan degradations)."""
