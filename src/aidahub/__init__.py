"""aidahub: a self-hostable national data hub for sharing clinical imaging data for AI research."""

__version__ = "0.1.0"
