"""Catalogue-scale batches: a ZIP (or an S3 prefix) of up to thousands of photos.

Each module does one job: ``archive`` reads a ZIP safely, ``plan`` checks the
batch against quotas up front, ``progress`` words and paces the progress line,
``results`` writes the results ZIP and CSV, ``s3_batch`` / ``counters`` are the
AWS storage, and ``state_machine_step`` is what the Step Functions map runs.
"""
