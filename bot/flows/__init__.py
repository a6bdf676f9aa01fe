"""Flows: what each command does in a worker, from photo to posted result."""
