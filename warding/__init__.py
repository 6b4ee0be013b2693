"""Warding: detect, review, act on and measure terrorist and violent extremist content."""

__version__ = "0.1.0"
