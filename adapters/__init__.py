"""Adapters: each platform translates to and from the core; the CLI wires everything."""
