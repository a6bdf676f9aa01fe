"""Slack side of Studio: the Bolt app, the command grammar, jobs, Slack I/O,
settings and the runtimes. It calls into ``handlers`` for everything Bedrock."""
