//! The HTML report and `summary.json` (being built).
