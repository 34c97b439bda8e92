"""Reports: stored run records -> Markdown, CSV and PNG under the home's reports/. Trains nothing.

`write_reports(home)` is the entry point (`benchmark/report/build.py`); each section's tables come from
the package's other modules.
"""

from benchmark.report.build import write_reports

__all__ = ["write_reports"]
