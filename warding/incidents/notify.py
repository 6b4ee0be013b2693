"""The ``incident.count`` webhook event: sent when an incident's copies count crosses a step.

Each time the count passes a multiple of the incident's ``notify_step`` (or
``WARDING_INCIDENT_NOTIFY_STEP``), one event is queued on the outbox (delivered with
retries when ``WARDING_EVENT_WEBHOOK_URL`` is set), keyed by incident and step so it is
never sent twice. Checked after every retroactive run and on each pass of the server's
retroactive worker.
"""

from __future__ import annotations

from typing import Any

from warding.incidents.service import copies, list_incidents, prioritise


def check_counts(app: Any) -> int:
    """Queue the events of steps crossed since the last check; how many were queued."""
    queued = 0
    with app.transaction() as session:
        for incident in list_incidents(session):
            found = copies(session, incident)
            count = len(found)
            if any(c.status == "open" for c in found):
                prioritise(session, incident)
            step = incident.notify_step or int(app.settings.incident_notify_step)
            if count // step <= incident.notified_count // step:
                continue
            if app.settings.event_webhook_url:
                from warding.intake.outbox import queue_event

                crossed = (count // step) * step
                queue_event(session, "incident.count",
                            f"warding-incident{incident.id}-count-{crossed}",
                            {"incident": {"id": incident.id, "name": incident.name},
                             "count": count, "step": step, "crossed": crossed,
                             "found_afterwards": sum(c.retroactive for c in found),
                             "open": sum(c.status == "open" for c in found)})
                queued += 1
            incident.notified_count = count
    return queued
