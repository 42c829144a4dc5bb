"""The console's own pages (not plain model CRUD): home, company, project financials, budget,
files, queue and sync log. Each calls the core's functions; none holds business logic."""
