"""``onestop notify``: try a channel, send what is due (for cron; the server sends by itself).

``onestop notify test --channel sms|zns|email --to ADDRESS [--template-id ID]`` sends one
test message now (no database) and prints how it went; exit status 1 when it failed.
``onestop notify send`` runs one sending pass.
"""

from __future__ import annotations

import sys

import click

from onestop.config import load_settings
from onestop.notify import channels
from onestop.notify.config import NotifyConfig
from onestop.notify.engine import mask, normalise_address
from onestop.notify.templates import unaccent
from onestop.queueing.errors import DomainError

TEST_TEXT = "Onestop: tin nhắn thử, kênh {channel}. Nếu nhận được, kênh đã hoạt động."


@click.group("notify")
def group() -> None:
    """Messages to citizens (SMS, Zalo ZNS, e-mail; docs/notifications.md)."""


@group.command("test")
@click.option("--channel", type=click.Choice(["sms", "zns", "email"]), required=True)
@click.option("--to", "to", required=True, help="a mobile number (sms, zns) or an e-mail address")
@click.option("--template-id", default="", help="ZNS: the approved template to use (default: ticket.near's)")
def test(channel: str, to: str, template_id: str) -> None:
    """Send one test message over a channel now, and say what the far end answered."""
    config = NotifyConfig.of(load_settings())
    try:
        kind, address = normalise_address(to)
    except DomainError as exc:
        raise click.ClickException(f"địa chỉ không hợp lệ (invalid address): {exc.code}") from exc
    if (kind == "email") != (channel == "email"):
        raise click.ClickException("kênh và địa chỉ không khớp (the channel does not take that address)")
    text = TEST_TEXT.format(channel=channel.upper())
    if channel == "sms":
        outcome = channels.send_sms(config, address, unaccent(text) if config.sms_ascii else text)
    elif channel == "zns":
        chosen = template_id or config.zns_templates.get("ticket.near", "")
        if not chosen:
            raise click.ClickException("cần --template-id (or ZNS_TEMPLATES with ticket.near=ID)")
        sample = {"unit": "Onestop", "label": "A001", "ahead": "3"}
        outcome = channels.send_zns(config, address, chosen, sample, tracking_id="onestop-test")
    else:
        outcome = channels.send_email(config, address, "Onestop: thư thử", text)
    where = mask(kind, address)
    if outcome.ok:
        click.echo(f"{channel}: sent to {where}")
        return
    click.echo(f"{channel}: failed to {where}: {outcome.error}", err=True)
    sys.exit(1)


@group.command("send")
def send() -> None:
    """Send the messages that are due, once."""
    from onestop.db import standalone_database
    from onestop.notify.delivery import run_pass

    database = standalone_database(load_settings())
    try:
        config = NotifyConfig.of(load_settings())
        result = run_pass(database.session_factory, config, observe=lambda c, o: None)
    finally:
        assert database.engine is not None
        database.engine.dispose()
    click.echo(f"sent {result.sent}, failed {result.failed}, dead {result.dead}, dropped {result.dropped}")
