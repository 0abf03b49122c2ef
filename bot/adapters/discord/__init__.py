"""The Discord adapter: slash commands and buttons over the shared engine (discord.py)."""
