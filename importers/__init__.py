"""Everything that reads spreadsheets: DINUM's open-data panorama, ministry workbooks,
the inbox job."""
