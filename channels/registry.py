"""The plugin manager: built-in channels and third-party plugins, loaded alike.

Every plugin, built-in or not, is found through the ``touchbase`` entry-point
group (the project's own ``pyproject.toml`` declares ``email``, ``sms`` and
``call``). ``TOUCHBASE_PLUGINS`` (a comma-separated list of entry-point names,
e.g. ``email,console``) limits which ones load; unset or empty loads all, a
name that is not installed is an error.

Typical use::

    from channels import registry
    channel = registry.get_channel("email")
    settings = channel.load_settings(raw_settings)
    result = channel.send(message, settings)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy
from marshmallow import Schema

from channels import hookspecs
from channels.base import (
    ADDRESS_KINDS,
    CAPABILITIES,
    CHANNEL_NAME_RE,
    ChannelProtocol,
    TouchEvent,
    secret_fields,
)
from channels.inbound import InboundEvent

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = hookspecs.PROJECT_NAME
PLUGINS_ENV = "TOUCHBASE_PLUGINS"
BUILTIN_DISTRIBUTION = "touchbase"


class PluginError(Exception):
    """A plugin could not be loaded or registered something invalid."""


class InvalidChannelError(PluginError):
    """A registered channel does not satisfy the channel contract."""


class DuplicateChannelError(PluginError):
    """Two plugins registered channels with the same name."""


class UnknownChannelError(LookupError):
    """No channel of that name is registered."""


@dataclass(frozen=True)
class RegisteredCheck:
    """A message check and where it came from; calling it calls the check."""

    name: str
    func: Callable[..., Iterable[Any]]
    plugin: str

    @property
    def check_name(self) -> str:
        """The name findings of this check carry (what ``api.preflight`` reads)."""
        return self.name

    def __call__(self, message: Any, context: Any) -> Iterable[Any]:
        return self.func(message, context)


@dataclass(frozen=True)
class PluginSource:
    """The distribution an entry-point plugin came from."""

    distribution: str | None
    version: str | None


class TouchbasePluginManager(pluggy.PluginManager):
    """A pluggy PluginManager with the Touchbase hookspecs, remembering where
    each entry-point plugin came from, and caching collected channels/checks
    until the next (un)registration."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.sources: dict[str, PluginSource] = {}
        self._cache: dict[str, Any] = {}
        self._cache_lock = threading.RLock()

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        result = super().register(plugin, name)
        with self._cache_lock:
            self._cache.clear()
        return result

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        result = super().unregister(plugin, name)
        with self._cache_lock:
            self._cache.clear()
        return result

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        with self._cache_lock:
            if key not in self._cache:
                self._cache[key] = compute()
            return self._cache[key]

    def load_entrypoints(self, names: Iterable[str] | None = None) -> list[str]:
        """Load plugins of the ``touchbase`` entry-point group (only ``names``
        if given) and return the names loaded. Raises :class:`PluginError` for
        a requested name that is not installed or a plugin that fails to import."""
        available = _entry_points()
        wanted = list(available) if names is None else list(dict.fromkeys(names))
        missing = [n for n in wanted if n not in available]
        if missing:
            raise PluginError(
                f"plugins requested ({PLUGINS_ENV}) but not installed: {', '.join(missing)} "
                f"(installed: {', '.join(sorted(available)) or 'none'})"
            )
        loaded = []
        for name in wanted:
            if self.has_plugin(name) or self.is_blocked(name):
                continue
            ep = available[name]
            try:
                plugin = ep.load()
            except Exception as exc:
                raise PluginError(
                    f"touchbase plugin {name!r} ({ep.value}) failed to import: {exc}"
                ) from exc
            self.register(plugin, name=name)
            dist = getattr(ep, "dist", None)
            self.sources[name] = PluginSource(
                distribution=dist.metadata["Name"] if dist else None,
                version=dist.version if dist else None,
            )
            loaded.append(name)
        return loaded


def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep)
    return found


def plugin_names_from_env(environ: Mapping[str, str] | None = None) -> list[str] | None:
    """The plugin names ``TOUCHBASE_PLUGINS`` asks for, or ``None`` for all."""
    value = (os.environ if environ is None else environ).get(PLUGINS_ENV, "")
    names = [n.strip() for n in value.split(",") if n.strip()]
    return names or None


def make_plugin_manager(
    plugins: Iterable[Any] = (),
    *,
    names: Iterable[str] | None = None,
    load_entrypoints: bool = True,
    environ: Mapping[str, str] | None = None,
) -> TouchbasePluginManager:
    """A new, uncached plugin manager.

    ``plugins``: extra plugin objects to register (tests, embedding).
    ``names``: entry-point names to load; default from ``TOUCHBASE_PLUGINS``
    (all when unset). ``load_entrypoints=False`` loads none (a bare manager).
    Finishes with ``check_pending()``, so a hook implementation that matches no
    hookspec fails here, at start-up, not at the first send.
    """
    pm = TouchbasePluginManager()
    for plugin in plugins:
        pm.register(plugin)
    if load_entrypoints:
        pm.load_entrypoints(plugin_names_from_env(environ) if names is None else names)
    pm.check_pending()
    return pm


_shared: TouchbasePluginManager | None = None
_shared_lock = threading.Lock()


def get_plugin_manager() -> TouchbasePluginManager:
    """The process-wide plugin manager, built on first use (``reset()`` drops it)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = make_plugin_manager()
        return _shared


def reset() -> None:
    """Forget the process-wide plugin manager (after changing TOUCHBASE_PLUGINS)."""
    global _shared
    with _shared_lock:
        _shared = None


# --------------------------------------------------------------------------- collecting


def _impls(pm: pluggy.PluginManager, hook_name: str) -> list[Any]:
    """The plain implementations of a hook, in the order pluggy calls them."""
    caller = getattr(pm.hook, hook_name)
    return [i for i in reversed(caller.get_hookimpls()) if not (i.hookwrapper or i.wrapper)]


def _call_impl(impl: Any, **kwargs: Any) -> Any:
    """Call one implementation with the arguments it names (as pluggy does)."""
    return impl.function(**{name: kwargs[name] for name in impl.argnames})


def _call_plugin(impl: Any, hook_name: str, **kwargs: Any) -> Any:
    """Call a collecting hook; an unexpected exception is reported with the plugin's name."""
    try:
        return _call_impl(impl, **kwargs)
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"plugin {impl.plugin_name!r} failed in {hook_name}: {exc!r}") from exc


def validate_channel(channel: Any) -> None:
    """Raise :class:`InvalidChannelError` unless ``channel`` fulfils the contract."""
    problems = []
    name = getattr(channel, "name", None)
    if not isinstance(name, str) or not CHANNEL_NAME_RE.match(name):
        problems.append(f"name {name!r} must match {CHANNEL_NAME_RE.pattern}")
    if getattr(channel, "address_kind", None) not in ADDRESS_KINDS:
        problems.append(f"address_kind must be one of {sorted(ADDRESS_KINDS)}")
    caps = getattr(channel, "capabilities", None)
    if not isinstance(caps, frozenset) or not caps <= CAPABILITIES:
        problems.append(f"capabilities must be a frozenset, subset of {sorted(CAPABILITIES)}")
    schema = getattr(channel, "settings_schema", None)
    if not (isinstance(schema, type) and issubclass(schema, Schema)):
        problems.append("settings_schema must be a marshmallow Schema class")
    else:
        instance = schema()
        leaked = [f for f in secret_fields(instance) if not instance.fields[f].load_only]
        if leaked:
            problems.append(f"secret settings must be load_only: {', '.join(sorted(leaked))}")
    templates = getattr(channel, "default_templates", {})
    if not isinstance(templates, Mapping) or not all(
        isinstance(step, str)
        and isinstance(pair, tuple)
        and len(pair) == 2
        and all(isinstance(text, str) for text in pair)
        for step, pair in templates.items()
    ):
        problems.append("default_templates must map a step to a (subject, body) pair of strings")
    for method in ("check_address", "send"):
        if not callable(getattr(channel, method, None)):
            problems.append(f"{method}() is missing")
    if problems:
        raise InvalidChannelError(f"invalid channel {channel!r}: " + "; ".join(problems))


def _collect_channels(pm: pluggy.PluginManager) -> dict[str, tuple[ChannelProtocol, str]]:
    found: dict[str, tuple[ChannelProtocol, str]] = {}
    for impl in _impls(pm, "register_channels"):

        def register(channel: ChannelProtocol, _plugin: str = impl.plugin_name) -> None:
            try:
                validate_channel(channel)
            except InvalidChannelError as exc:
                raise InvalidChannelError(f"plugin {_plugin!r}: {exc}") from None
            if channel.name in found:
                raise DuplicateChannelError(
                    f"channel {channel.name!r} registered by both "
                    f"{found[channel.name][1]!r} and {_plugin!r}"
                )
            found[channel.name] = (channel, _plugin)

        _call_plugin(impl, "register_channels", register=register)
    return found


def _collect_checks(pm: pluggy.PluginManager) -> list[RegisteredCheck]:
    found: dict[str, RegisteredCheck] = {}
    for impl in _impls(pm, "register_checks"):

        def register(check: Callable, name: str | None = None, _plugin: str = impl.plugin_name):
            if not callable(check):
                raise PluginError(f"plugin {_plugin!r} registered a check that is not callable")
            check_name = name or getattr(check, "__name__", None)
            if not check_name:
                raise PluginError(f"plugin {_plugin!r} registered a check without a name")
            if check_name in found:
                raise PluginError(
                    f"check {check_name!r} registered by both "
                    f"{found[check_name].plugin!r} and {_plugin!r}"
                )
            found[check_name] = RegisteredCheck(check_name, check, _plugin)

        _call_plugin(impl, "register_checks", register=register)
    return list(found.values())


def _channels_with_plugins(pm: pluggy.PluginManager | None):
    pm = pm or get_plugin_manager()
    if isinstance(pm, TouchbasePluginManager):
        return pm.cached("channels", lambda: _collect_channels(pm))
    return _collect_channels(pm)


def channels(pm: pluggy.PluginManager | None = None) -> dict[str, ChannelProtocol]:
    """All registered channels by name."""
    found = _channels_with_plugins(pm)
    return {name: found[name][0] for name in sorted(found)}


def get_channel(name: str, pm: pluggy.PluginManager | None = None) -> ChannelProtocol:
    """The channel called ``name``; :class:`UnknownChannelError` if none is."""
    found = channels(pm)
    try:
        return found[name]
    except KeyError:
        raise UnknownChannelError(
            f"no channel {name!r} (registered: {', '.join(sorted(found)) or 'none'})"
        ) from None


def checks(pm: pluggy.PluginManager | None = None) -> list[RegisteredCheck]:
    """All registered message checks, in plugin registration order."""
    pm = pm or get_plugin_manager()
    if isinstance(pm, TouchbasePluginManager):
        return pm.cached("checks", lambda: _collect_checks(pm))
    return _collect_checks(pm)


def notify_event(
    event: TouchEvent | Mapping[str, Any], pm: pluggy.PluginManager | None = None
) -> TouchEvent:
    """Tell every ``touch_event`` observer about ``event`` (a dict is converted
    with :meth:`TouchEvent.from_mapping`). An observer that raises is logged
    and skipped; the others still run. Returns the event as delivered."""
    pm = pm or get_plugin_manager()
    if not isinstance(event, TouchEvent):
        event = TouchEvent.from_mapping(event)
    for impl in _impls(pm, "touch_event"):
        try:
            _call_impl(impl, event=event)
        except Exception:
            log.exception("touch_event observer of plugin %r failed", impl.plugin_name)
    return event


def notify_inbound(event: InboundEvent, pm: pluggy.PluginManager | None = None) -> None:
    """Tell every ``inbound_message`` observer about ``event``; one that raises is logged
    and skipped."""
    pm = pm or get_plugin_manager()
    for impl in _impls(pm, "inbound_message"):
        try:
            _call_impl(impl, event=event)
        except Exception:
            log.exception("inbound_message observer of plugin %r failed", impl.plugin_name)


# --------------------------------------------------------------------------- describing

# What `touchbase plugins` and GET /v1/channels show lives in channels.describing; the
# names stay importable from here.
from channels.describing import (  # noqa: E402, F401
    channel_descriptions,
    describe,
    describe_channel,
    settings_json_schema,
)
