"""Slack listeners: slash commands, events, shortcuts, views and actions, acked fast."""
