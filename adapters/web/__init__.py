"""The web adapter: the bot's only way to fetch a page or a feed (`fetch.SafeFetcher`)."""
