"""Application services: each function returns a command for `ledger.write.writer.Writer`.

Commands take ids and plain values, load aggregates through the unit of work, check, and
change them. They never talk to HTTP or SQL.
"""
