"""Slack adapter: Block Kit rendering, inbound translation and the Bolt transport."""
