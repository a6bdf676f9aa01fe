"""Runtimes: the local server and worker pool, the AWS Lambda entry points, state stores and queues."""
