"""Benchmarks whose figures are reported in the README (``make bench``)."""

import os

# Tracing is Lambda's business; here the X-Ray SDK would only print "Subsegment discarded"
# for every traced call (no segment outside Lambda). Subprocesses inherit this too.
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")
