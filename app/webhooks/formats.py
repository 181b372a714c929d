"""What a delivery's body says: the Standard Webhooks payload as it is, or a Slack/Mattermost message."""

from __future__ import annotations

from typing import Any


def _escape(text: str) -> str:
    """Slack's mrkdwn reserves &, < and >."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _summary(event_type: str, data: dict[str, Any]) -> str:
    if event_type == "decision.contradiction":
        others = len(data.get("contradicts") or [])
        return (
            f"“{data.get('title')}” (owner {data.get('owner')}) pushes {data.get('kpi')} to {data.get('direction')}, "
            f"against {others} open decision{'' if others == 1 else 's'} pushing it the other way"
        )
    decision = data.get("decision")
    if isinstance(decision, dict):
        line = f"“{decision.get('title')}” (owner {decision.get('owner')}, {decision.get('status')})"
        if event_type == "decision.review_due":
            return f"Review due since {data.get('review_by')}: {line}"
        if data.get("reason"):
            return f"{line}: {data['reason']}"
        return line
    if event_type == "strategy.version_added":
        version = data.get("version") or {}
        flags = []
        if data.get("change") and not data.get("explained"):
            flags.append("no reason given")
        if data.get("unstable"):
            flags.append(f"only {data.get('days_since_previous'):.1f} days after the previous version")
        note = f" ({'; '.join(flags)})" if flags else ""
        return f"Strategy {data.get('strategy')} version {version.get('number')}: {version.get('summary')}{note}"
    if event_type in {"kpi.revised", "kpi.created"}:
        kpi = data.get("kpi") or {}
        reason = data.get("change_reason") or "no reason given"
        return f"KPI {kpi.get('key')} revision {data.get('revision')}: {reason}"
    if event_type == "digest.weekly":
        return _digest_line(data)
    for name in ("person", "data_source", "strategy"):
        record = data.get(name)
        if isinstance(record, dict):
            key = record.get("handle") or record.get("key")
            return f"{name.replace('_', ' ').title()} {key}: {record.get('name') or record.get('title')}"
    return event_type


def _digest_line(data: dict[str, Any]) -> str:
    """The week's headline figures, and how they moved against the week before."""
    now, change = data.get("current") or {}, data.get("change") or {}

    def moved(name: str, scale: float = 1, unit: str = "") -> str:
        value = change.get(name)
        return "" if value is None else f" ({value * scale:+g}{unit})"

    share = now.get("data_share")
    parts = [
        f"{now.get('decisions')} decisions{moved('decisions')}",
        ("no decision" if share is None else f"{share * 100:.1f} % on data") + moved("data_share", 100, " pts"),
        f"{now.get('unexplained_strategy_changes')} unexplained strategy changes",
        f"{now.get('overdue_reviews')} reviews overdue",
    ]
    period = f"{data.get('period_start')} to {data.get('period_end')} ({data.get('tz')})"
    return f"Digest of the week {period}: " + ", ".join(parts)


def slack(payload: dict[str, Any]) -> dict[str, Any]:
    """``{text, blocks}`` for a Slack or Mattermost incoming webhook: the type, a readable line, the event's id."""
    event_type = str(payload["type"])
    data = payload.get("data") or {}
    summary = _escape(_summary(event_type, data))
    text = f"*{_escape(event_type)}*: {summary}"
    subject = _escape(str(data.get("subject", "")))
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"{subject} · event {data.get('id')} · {payload['timestamp']}",
                    }
                ],
            },
        ],
    }
