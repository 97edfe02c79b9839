"""Analysis: pure ``DataFrame → DataFrame`` computations over the processed tables (metrics, forecasts, value,
teams, cost centres, budgets, spend, prices, ROI, evidence, the watch's detection) and GitHub's dated changes."""
