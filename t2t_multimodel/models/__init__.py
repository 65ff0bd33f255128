"""Registered models; importing this package registers them."""
