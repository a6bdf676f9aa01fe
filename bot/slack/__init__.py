"""The Slack side: Web API calls, photos, Block Kit, the manifest and request checks."""
