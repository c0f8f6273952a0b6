"""Durable jobs: work that must happen once, after a commit, outside the request.

A job is a row written in the same transaction as the change that needs it
(``queue.enqueue``), so it cannot be lost when the process dies after the commit, nor
run for a change that was rolled back. Each process's ``runner.JobRunner`` claims due
jobs and runs their handlers, which each capability declares in its ``tasks.py``.
This package is plumbing: it imports no capability.
"""
