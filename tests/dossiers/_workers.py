"""Process body for the dossier concurrency test (module level, for 'spawn' children)."""

from __future__ import annotations

import datetime as dt
import traceback
from typing import Any

BARRIER_TIMEOUT = 60.0


def receive_worker(url: str, unit_id: int, procedure_id: int, count: int, now_iso: str,
                   barrier: Any, results: Any, index: int) -> None:
    """Receive ``count`` dossiers, one transaction each (as the API does); report the codes."""
    codes: list[str] = []
    lines: list[int] = []
    errors: list[str] = []
    try:
        from sqlalchemy import text
        from sqlalchemy.orm import sessionmaker

        from onestop.db import make_engine
        from onestop.dossiers.engine import Applicant, receive_dossier
        from onestop.dossiers.models import Procedure
        from onestop.queueing.engine import SYSTEM
        from onestop.units.models import Unit

        engine = make_engine(url)
        with engine.connect() as conn:  # connect before the start line
            conn.execute(text("SELECT 1"))
            conn.rollback()
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        now = dt.datetime.fromisoformat(now_iso)
        applicant = Applicant(name=f"Người nộp {index}", id_number="001203004005", phone="0912345678")
        barrier.wait(BARRIER_TIMEOUT)
        for _ in range(count):
            with factory() as session:
                unit = session.get(Unit, unit_id)
                procedure = session.get(Procedure, procedure_id)
                dossier = receive_dossier(session, unit, procedure, applicant, actor=SYSTEM, now=now)
                session.commit()
                codes.append(dossier.code)
                lines.append(dossier.book_line)
        engine.dispose()
    except BaseException:
        errors.append(traceback.format_exc())
        barrier.abort()
    results.put({"index": index, "codes": codes, "lines": lines, "errors": errors})
