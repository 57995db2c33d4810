"""What an AppFlow timestamp can hold: epoch seconds from 1970 to the end of year 9999, what a
``datetime`` (and so botocore's parser of AWS timestamps) can show. One home for the bounds: the
request checks (``model/validate.py``: a timestamp member outside them is a ValidationException
[guess]), the clock (``backend/clock.py``) and saved state (``backend/state_schema.py``)."""
from __future__ import annotations

EARLIEST = 0.0  # 1970-01-01T00:00:00Z
LATEST = 253402300799.999  # 9999-12-31T23:59:59.999Z
EARLIEST_TEXT = "1970-01-01T00:00:00Z"
LATEST_TEXT = "9999-12-31T23:59:59.999Z"
