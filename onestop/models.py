"""Import every model so that the metadata is complete (Alembic, create_all)."""

from onestop.accounts.models import ApiToken, Device, User, UserUnit
from onestop.audit.models import AuditEntry
from onestop.bookings.models import Booking
from onestop.db import Base, DailyCounter
from onestop.dossiers.models import Dossier, DossierEvent, Procedure
from onestop.integrations.models import ProvincePush
from onestop.media.models import MediaItem, PlaylistItem
from onestop.notify.models import NotifyMessage, NotifySubscription
from onestop.printing.models import PrintJob
from onestop.queueing.models import (
    Counter,
    CounterEvent,
    CounterService,
    Service,
    Ticket,
    TicketEvent,
)
from onestop.ratings.models import Rating
from onestop.reports.models import ReportDay
from onestop.units.models import Unit, UnitDay
from onestop.webhooks.models import Webhook, WebhookDelivery

__all__ = [
    "ApiToken", "Base", "Counter", "CounterEvent", "CounterService", "DailyCounter", "Device", "Procedure",
    "Service", "Ticket", "TicketEvent", "Unit", "User", "UserUnit",
    "Dossier", "DossierEvent", "UnitDay", "PrintJob",
    "Webhook", "WebhookDelivery", "Rating", "AuditEntry", "ProvincePush", "MediaItem", "PlaylistItem",
    "Booking", "NotifyMessage", "NotifySubscription", "ReportDay",
]
