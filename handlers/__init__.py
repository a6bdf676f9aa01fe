"""Model side of Studio: pure functions that turn a parsed request (plus image
bytes) into images or text by calling Amazon Bedrock.

Nothing here imports Slack libraries or reads the environment; clients and model
ids are passed in by the caller (see ``bot.settings``).
"""
