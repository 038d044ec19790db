"""The ``recognize`` command line: one typer app, one module per command group."""
from __future__ import annotations

from .app import app, main

__all__ = ["app", "main"]
