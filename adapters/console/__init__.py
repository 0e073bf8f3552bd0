"""The console adapter: the same core driven from a terminal or a piped script."""
