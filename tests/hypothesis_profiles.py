"""Hypothesis profiles: "ci-fast" (the default, for `make test`) and "thorough" (for .ci/run).

Choose one with HYPOTHESIS_PROFILE=thorough. Fixtures (the app, its client) are shared by the examples
of one test, which is what these property tests want: every request must be answered without a 500,
whatever the earlier ones left in the database.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # two cores shared by many: a slow example is not a failure
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                              HealthCheck.data_too_large, HealthCheck.filter_too_much],
    "print_blob": True,
}

settings.register_profile("ci-fast", max_examples=50, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci-fast"))
