"""Darbuka: a self-hosted messenger that works on slow links and is hard to abuse."""

__all__ = ["__version__"]

__version__ = "0.1.0"
