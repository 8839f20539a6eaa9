"""Everything that publishes: charts, the public site, the PDF booklet, open data."""
