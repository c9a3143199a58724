"""A candidate's files: the ``.eml`` the email channel wrote to an outbox for their touches.

The email channel names each file ``<touch id>_<message id>.eml`` (channels.email), in
the ``outbox_dir`` of the settings in force for the candidate: the instance's default, the
organisation's, or the candidate's own. Every one of those places is looked in, since a
setting may have changed since a message was written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.channel_settings import instance_defaults
from api.models import ChannelSetting

log = logging.getLogger("touchbase.privacy")


def outbox_dirs(
    session: Session, org_id: int, candidate_id: int | None, config: Mapping[str, Any]
) -> list[Path]:
    """Every outbox directory the candidate's email may have been written to."""
    dirs = [instance_defaults("email", config)["outbox_dir"]]
    rows = session.scalars(
        select(ChannelSetting.values).where(
            ChannelSetting.org_id == org_id,
            ChannelSetting.channel == "email",
            (ChannelSetting.candidate_id == candidate_id) | ChannelSetting.candidate_id.is_(None),
        )
    ).all()
    dirs += [values.get("outbox_dir") for values in rows if (values or {}).get("outbox_dir")]
    seen: dict[str, Path] = {}
    for d in dirs:
        seen.setdefault(str(Path(d).resolve()), Path(d))
    return list(seen.values())


def touch_files(dirs: Iterable[Path], touch_ids: Iterable[int]) -> list[Path]:
    """The outbox files of these touches (``<id>_*.eml``), in id order."""
    found: list[Path] = []
    dirs = [d for d in dirs if d.is_dir()]
    for touch_id in sorted(set(touch_ids)):
        for d in dirs:
            found += sorted(d.glob(f"{int(touch_id)}_*.eml"))
    return found


def remove(paths: Iterable[Path]) -> int:
    """Delete the files (one already gone is fine); how many were removed. A file that
    cannot be removed is logged by its directory only (its name holds a Message-ID)."""
    removed = 0
    for path in paths:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.error("could not remove an outbox file in %s: %s", path.parent, exc.strerror)
    return removed
