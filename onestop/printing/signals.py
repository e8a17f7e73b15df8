"""What the printing service announces (blinker; sender is the ``Session``).

Like :mod:`onestop.signals`, they are sent after the change is flushed and before the
commit; :mod:`onestop.printing.relay` turns them into Socket.IO events *after commit*.

=====================  ==================================================================
signal                 keyword arguments
=====================  ==================================================================
job_queued             agent_id (int), message (the ``job.print`` payload, bytes included)
printer_alarm          alarm (:class:`onestop.printing.service.Alarm`)
=====================  ==================================================================
"""

from blinker import Namespace

_ns = Namespace()

job_queued = _ns.signal("print-job-queued")
printer_alarm = _ns.signal("printer-alarm")
