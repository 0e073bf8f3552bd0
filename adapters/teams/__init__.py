"""Microsoft Teams: botbuilder stays in this folder (botbuilder-python is archived; the
Microsoft 365 Agents SDK is its successor, and a swap must touch this folder only)."""
