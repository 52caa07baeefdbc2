"""Annual assessment report (PDF) and score workbook (XLSX)."""
