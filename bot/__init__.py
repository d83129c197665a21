"""briefbot: grounded answers and daily briefings from curated articles."""

__version__ = "0.1.0"
