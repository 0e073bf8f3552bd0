"""Ambassador's platform-neutral core: domain, router, services and the neutral message model.

Nothing in this package imports a chat SDK; adapters translate to and from it.
"""
