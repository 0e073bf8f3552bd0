"""The `ambassador` command line and the composition root that builds the bot."""
