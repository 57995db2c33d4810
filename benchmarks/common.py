"""What the benchmark scripts share: an offline, reproducible AWS environment, set before botocore
reads anything, and the samples a run collects (medians and paired ratios against floors measured
in the same run)."""
from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path
from typing import Dict, Iterable, List

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from appflow_emu.mock import FAKE_CREDENTIALS  # noqa: E402  (cheap: imports neither botocore nor the emulator)


def offline_environment(also_unset: Iterable[str] = ()) -> None:
    """No profile, endpoint, config file or instance metadata; the fake credentials a mock puts in
    the environment when none are set, so floors and emulator runs sign alike; the default
    (non-strict) mode. ``also_unset``: more variables to remove."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_APPFLOW",
                 "AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN", "APPFLOW_EMU_STRICT", *also_unset):
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.update({
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })


class Results:
    """Samples per key, in the order keys were first added, with their labels."""

    def __init__(self) -> None:
        self.samples: Dict[str, List[float]] = {}
        self.labels: Dict[str, str] = {}
        self.order: List[str] = []

    def add(self, key: str, label: str, value: float) -> None:
        if key not in self.samples:
            self.samples[key] = []
            self.labels[key] = label
            self.order.append(key)
        self.samples[key].append(value)

    def median(self, key: str) -> float:
        return statistics.median(self.samples[key])

    def paired_ratio(self, num: str, den: str) -> float:
        return statistics.median(a / b for a, b in zip(self.samples[num], self.samples[den]))
