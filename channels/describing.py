"""Describing what was loaded: each plugin's origin and hooks, each channel's address kind,
capabilities and settings as JSON Schema (``touchbase plugins``, ``GET /v1/channels``).

``channels.registry`` re-exports these names, so it is imported here only when called."""

from __future__ import annotations

from typing import Any

import pluggy
from marshmallow import Schema

from channels.base import ChannelProtocol, secret_fields


def settings_json_schema(schema: type[Schema]) -> dict[str, Any]:
    """The JSON Schema of a marshmallow settings schema. Load-only fields are
    ``writeOnly``; secret fields also carry ``"x-secret": true``."""
    from apispec import APISpec
    from apispec.ext.marshmallow import MarshmallowPlugin

    plugin = MarshmallowPlugin()
    APISpec(title="touchbase channels", version="1", openapi_version="3.1.0", plugins=[plugin])
    converted = _uri_format(plugin.converter.schema2jsonschema(schema))
    for name in secret_fields(schema):
        prop = converted["properties"].get(schema().fields[name].data_key or name)
        if prop is not None:
            prop["x-secret"] = True
    return converted


def _uri_format(node: Any) -> Any:
    """apispec writes ``fields.Url`` as ``"format": "url"``; JSON Schema's name is ``uri``."""
    if isinstance(node, dict):
        fixed = {key: _uri_format(value) for key, value in node.items()}
        if fixed.get("format") == "url":
            fixed["format"] = "uri"
        return fixed
    if isinstance(node, list):
        return [_uri_format(item) for item in node]
    return node


def describe_channel(channel: ChannelProtocol) -> dict[str, Any]:
    """A JSON-ready description of one channel (for ``GET /v1/channels``)."""
    return {
        "name": channel.name,
        "title": getattr(channel, "title", "") or channel.name,
        "address_kind": channel.address_kind,
        "capabilities": sorted(channel.capabilities),
        "settings_schema": settings_json_schema(channel.settings_schema),
    }


def describe(pm: pluggy.PluginManager | None = None) -> list[dict[str, Any]]:
    """One JSON-ready dict per plugin, for ``touchbase plugins``: its name, the
    distribution and version it came from (``None`` when registered directly),
    whether it is built in, the hooks it implements, its channels and checks."""
    from channels import registry

    pm = pm or registry.get_plugin_manager()
    found = registry._channels_with_plugins(pm)
    all_checks = registry.checks(pm)
    sources = getattr(pm, "sources", {})
    result = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        source = sources.get(name, registry.PluginSource(None, None))
        result.append(
            {
                "name": name,
                "distribution": source.distribution,
                "version": source.version,
                "builtin": source.distribution == registry.BUILTIN_DISTRIBUTION,
                "hooks": sorted(c.name for c in pm.get_hookcallers(plugin) or []),
                "channels": [describe_channel(ch) for ch, owner in found.values() if owner == name],
                "checks": [c.name for c in all_checks if c.plugin == name],
            }
        )
    return result


def channel_descriptions(pm: pluggy.PluginManager | None = None) -> list[dict[str, Any]]:
    """Every channel described, with the plugin that provides it, sorted by name."""
    from channels import registry

    found = registry._channels_with_plugins(pm)
    return [
        {**describe_channel(ch), "plugin": owner} for _name, (ch, owner) in sorted(found.items())
    ]
