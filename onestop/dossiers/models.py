"""Administrative procedures (thủ tục hành chính). Dossiers come with the intake issue."""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from onestop.db import Base


def fold(text: str) -> str:
    """Lower case without diacritics (đ -> d), for search that needs no accents."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class Procedure(Base):
    __tablename__ = "procedures"
    __table_args__ = (UniqueConstraint("unit_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("services.id"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(500))
    processing_days: Mapped[int] = mapped_column(default=0)  # working days; 0 = same day
    fee: Mapped[str] = mapped_column(String(200), default="")
    documents: Mapped[list[Any]] = mapped_column(default=list)
    search_text: Mapped[str] = mapped_column(String(600), default="")
    active: Mapped[bool] = mapped_column(default=True)

    def refresh_search(self) -> None:
        self.search_text = fold(f"{self.code} {self.name}")
