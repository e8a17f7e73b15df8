"""Receipt printing: render slips as raster images, encode ESC/POS, drive printers by URI.

Typical use (the server and the print agent do exactly this)::

    from hardware.printing import TicketSlip, open_printer, ticket_job

    result = open_printer(device.printer_uri).send(ticket_job(slip))
    ticket.print_state = result.state.value   # printed / sent / queued_for_agent / failed

Nothing here imports Flask or ``onestop``.
"""

# first: sets python-escpos's cache directory before python-escpos is imported
from hardware.printing import _escpos_cache  # noqa: F401
from hardware.printing.drivers import (
    Driver,
    PrinterUriError,
    clear_dummy_jobs,
    dummy_jobs,
    open_printer,
    register,
    registered_schemes,
)
from hardware.printing.escpos import EPSON_TCVN3, TextLine, TextProfile, raster_job, text_job, ticket_job
from hardware.printing.render import (
    PAPER_58MM,
    PAPER_80MM,
    Fonts,
    Picture,
    Rule,
    Space,
    Text,
    TicketSlip,
    TicketTexts,
    default_fonts,
    render_lines,
    render_ticket,
)
from hardware.printing.status import PrinterState, PrinterStatus, PrintResult, PrintState

__all__ = [
    "EPSON_TCVN3", "PAPER_58MM", "PAPER_80MM", "Driver", "Fonts", "Picture", "PrintResult", "PrintState",
    "PrinterState", "PrinterStatus", "PrinterUriError", "Rule", "Space", "Text", "TextLine", "TextProfile",
    "TicketSlip", "TicketTexts", "clear_dummy_jobs", "default_fonts", "dummy_jobs", "open_printer",
    "raster_job", "register", "registered_schemes", "render_lines", "render_ticket", "text_job", "ticket_job",
]
