"""Printing queue tickets on the kiosks' printers, directly or through a print agent.

- ``models``: :class:`PrintJob`, one row per print attempt (direct, agent, reprint, test).
- ``service``: plain functions (a ``Session``, ``now``; no Flask): where a device prints,
  the slip's values, recording results, the agent's job queue (compare-and-set acks,
  expiry), printer status.
- ``signals``: what the service announces (job queued for an agent, printer alarm).
- ``dispatch``: the web side of a print: commit the ticket first, render, send with a
  bounded wait, record the result in a second short transaction.
- ``relay``: signals -> Socket.IO events through the realtime outbox (after commit).
- ``agent_ns``: the ``/agent`` Socket.IO namespace the print agents connect to.

The print agent itself is :mod:`hardware.agent` (no Flask, no ``onestop`` imports).
"""
