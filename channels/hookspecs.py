"""The Touchbase plugin API: the hooks a plugin may implement.

A plugin is a module (or any object) with functions decorated by
``channels.hookimpl`` whose names are the hook names below, registered under
the entry-point group ``touchbase``::

    # pyproject.toml of your plugin
    [project.entry-points.touchbase]
    myplugin = "touchbase_myplugin"

A hook implementation may accept fewer arguments than the spec (pluggy passes
only the ones it names). An implementation whose name matches no hook here is
an error reported at start-up (``PluginManager.check_pending``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from channels.base import ChannelProtocol, TouchEvent
    from channels.inbound import InboundEvent

PROJECT_NAME = "touchbase"
"""The pluggy project name and the entry-point group plugins register under."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def register_channels(register: Callable[[ChannelProtocol], None]) -> None:
    """Register the channels this plugin provides.

    Call ``register(channel)`` once per channel object (an instance of a
    ``channels.Channel`` subclass, or any object with the same attributes)::

        @hookimpl
        def register_channels(register):
            register(ConsoleChannel())

    A channel has ``name``, ``title`` (for listings; default the name),
    ``address_kind`` (``"email"`` or ``"phone"``), ``capabilities``,
    ``settings_schema``, ``check_address(address)`` and ``send(message, settings)``,
    and may ship its own default message per step::

        default_templates = {
            "thank_you": ("Thank you, {{ contact.first_name }}", "Dear {{ contact.name }}..."),
        }

    a ``(subject, body)`` pair of Jinja2 text in Touchbase's template namespace
    (``api/templating.py``; the subject ``""`` unless the address kind is email). A
    touch on the channel uses the candidate's template for it, else the organisation's
    (``POST /v1/templates {"channel": name, ...}``), else this default, else the
    built-in template of its address kind. A shipped template that would be refused if
    saved is not used (the conformance kit tests for it).

    The registry validates each channel when it is registered (name,
    ``address_kind``, ``capabilities``, ``settings_schema``, ``default_templates``)
    and refuses two channels with the same name. Channel objects are shared by all
    threads of the worker: keep per-send state in local variables, not on ``self``.

    Optional, to hold a provider connection across the messages of a batch (SMTP,
    HTTP keep-alive): ``open_session()`` returns an object with ``send(message,
    settings)`` and ``close()`` (``channels.ChannelSession``). The worker opens one per
    batch, sends the batch's messages of the channel through it in order from one
    thread, and closes it after the batch (also after an error). Each ``send`` answers
    exactly as the channel's own ``send`` would; in particular a reply lost on a
    reused connection is ``Unknown``, never retried on a new one. A channel without
    ``open_session`` (or whose ``open_session`` returns ``None``) gets one ``send``
    call per message, as before.
    """


@hookspec
def register_checks(register: Callable[..., None]) -> None:
    """Register message checks run by the preflight before a touch is
    scheduled and again before it is sent.

    Call ``register(check, name=None)``; ``name`` defaults to the function's
    ``__name__`` and must be unique. A check is a callable::

        def check(message, context) -> Iterable[Finding]

    ``message`` is the rendered message (``subject``, ``body``), ``context`` a
    ``channels.CheckContext``: what the preflight knows about it (``step``, ``channel``,
    ``contact``, ``notes``, ``limits``...). It yields zero or more
    ``channels.Finding(check, rule, severity, detail)`` where ``severity``
    is ``"block"`` (the touch cannot be scheduled) or ``"warn"``, and ``rule``
    the domain rule it enforces (``"R13"``) or ``None``. A check must be a pure
    function of its arguments: no network, no database writes.
    """


@hookspec
def touch_event(event: TouchEvent) -> None:
    """Observe every touch event (scheduled, sent, failed, delivered...).

    ``event`` is a ``channels.TouchEvent`` with ``touch_id``, ``kind``, ``at``
    (UTC datetime), ``actor``, ``reason``, ``channel``, ``provider_id`` and
    ``detail``. Called after the event is committed; the return value is
    ignored. An exception raised here is logged and does not affect the touch
    or the other observers, so keep the work short (hand long work to a queue).
    """


@hookspec
def inbound_message(event: InboundEvent) -> None:
    """Observe every inbound email Touchbase heard, whichever way it came in.

    ``event`` is a ``channels.InboundEvent`` with ``outcome`` (``recorded``,
    ``ignored``, ``unmatched`` or ``duplicate``), ``reason``, ``source`` (``upload`` for
    ``POST /v1/inbound/email``, else the channel that read it), ``classification``
    (``replied``, ``rejected``, ``out_of_office``, ``bounce``...), and the ids it matched
    (``inbound_id``, ``response_id``, ``touch_id``, ``contact_id``, ``candidate_id``).
    Called after the message's effects are committed; the return value is ignored and an
    exception is logged without affecting anything else. To *feed* replies in rather than
    observe them, give a channel the ``inbound_replies`` capability (``channels.inbound``).
    """
