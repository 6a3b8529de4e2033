"""Presenting results: figures (matplotlib) and the HTML report. Nothing here computes a metric."""
