"""Stamp printing station: crash-safe print queue on top of the printer package."""
