"""Counterline: live, on-the-record business chat for counter staff."""

__version__ = "0.1.0"
