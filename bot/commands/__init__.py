"""Commands: the table of commands, their grammar and parsers, and turning Slack input into jobs."""
