"""The one place that imports every model package, so that their registrations happen. Everything that
needs the full list of models (runner, CLI) imports this module, never the packages one by one.
`SUBJECT` is the model under test as summer/ declares it: the reports ask it for SUMMER's names
(`SUMMER`: its registered name)."""

import baselines  # noqa: F401
import summer  # noqa: F401
from benchmark.data import DATASETS
from benchmark.models.contract import ABLATIONS, MODELS
from summer.subject import SUBJECT, SUMMER

__all__ = ["ABLATIONS", "DATASETS", "MODELS", "SUBJECT", "SUMMER"]
