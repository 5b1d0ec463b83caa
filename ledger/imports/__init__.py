"""Spreadsheet imports: members (with households and grids), historical awards and opening
balances, read from CSV (UTF-8 or GB18030) or XLSX, checked whole, then posted row by row
exactly once (see `ledger.imports.run`)."""
