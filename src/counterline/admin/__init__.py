"""Administration: reading the audit log.

The audit capability sits at the bottom of the layers (every capability records into it);
reading the log names people and needs the accounts guards, so the viewer lives up here.
"""
