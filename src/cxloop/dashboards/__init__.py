"""What the analyst's and manager's pages show: the overview, the journey map, the topic
explorer, drivers and outcomes, customer and account 360 — each one composition of the metrics,
insights, act and loop services, shared by the web pages, the API and the reports."""
