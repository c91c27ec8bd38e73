"""Reports of the dashboard's views: CSV and XLSX exports, an HTML and PDF report of the overview
and chosen sections, and reports e-mailed on a schedule."""
