"""Requests in, answers out: the botocore hook (``hook.py``, cheap to import), answering a
botocore call (``botocore_call.py``), and the HTTP-level request -> operation -> handler ->
response path both share (``dispatch.py``)."""
