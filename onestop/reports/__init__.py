"""Reports, the manager dashboard's figures, staffing advice (Erlang C) and exports.

Every figure is computed from the audit trails (``TicketEvent``, ``DossierEvent``,
``CounterEvent``) and ``Rating`` rows, so any past period can be recomputed. See
docs/reports.md for the definitions.
"""
