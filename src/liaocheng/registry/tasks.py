"""Background work of the registry (huey): imports of files uploaded on the import page.

The page stores the file under ``VAR_DIR/uploads/<token>/`` with a small manifest (``manifest.json``: kind,
uploader, source department, state, progress, error) and enqueues :func:`import_upload` after its
transaction commits. The task is thin: it calls ``importers.run_import`` and records in the manifest what
the page needs to show while it runs (rows processed, a heartbeat) and what happened if it could not start or
stopped (the ``DomainError`` in both languages). The job itself (``ImportJob``: batches, row errors, resume)
is the importer's. A job started from the page keeps its file at ``uploads/<token>/<name>`` (its
``file_name``), so it can be resumed from the page with the same file or a corrected one.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from huey.contrib.djhuey import db_task

from liaocheng.core.errors import DomainError

log = logging.getLogger(__name__)

UPLOADS = "uploads"
MANIFEST = "manifest.json"
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_LABEL = re.compile(r"^uploads/([0-9a-f]{32})/[^/]+$")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
# a running import reports after every batch (about a second for 10,000 rows); silence this long means the
# worker stopped (killed, restarted) and the job can be resumed
STALE_AFTER = dt.timedelta(minutes=10)


def uploads_root() -> Path:
    return Path(settings.VAR_DIR) / UPLOADS


def new_token() -> str:
    return uuid.uuid4().hex


def upload_dir(token: str) -> Path:
    if not _TOKEN.match(token):
        raise ValueError("bad upload token")
    return uploads_root() / token


def label_for(token: str, stored_name: str) -> str:
    """The ``ImportJob.file_name`` of a job started from an upload (relative to ``VAR_DIR``)."""
    return f"{UPLOADS}/{token}/{stored_name}"


def token_of_label(file_name: str) -> str | None:
    m = _LABEL.match(file_name or "")
    return m.group(1) if m else None


def _now() -> str:
    return timezone.now().isoformat()


def read_manifest(token: str | None) -> dict[str, Any] | None:
    if not token or not _TOKEN.match(token):
        return None
    try:
        data = json.loads((upload_dir(token) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_manifest(token: str, data: dict[str, Any]) -> None:
    folder = upload_dir(token)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)


def update_manifest(token: str, **changes: Any) -> dict[str, Any]:
    data = read_manifest(token) or {}
    data.update(changes, updated_at=_now())
    write_manifest(token, data)
    return data


def stored_file(token: str, manifest: dict[str, Any]) -> Path | None:
    """The uploaded file of a manifest, if it is still there."""
    name = str(manifest.get("file") or "")
    if not name or "/" in name or name.startswith("."):
        return None
    path = upload_dir(token) / name
    return path if path.is_file() else None


# --- which upload a job belongs to (the latest run started from the page) ------------------------------------

def _job_link(job_id: int) -> Path:
    return uploads_root() / "jobs" / f"{int(job_id)}.token"


def link_job(job_id: int, token: str) -> None:
    path = _job_link(job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token, encoding="ascii")


def token_for_job(job_id: int, file_name: str) -> str | None:
    try:
        token = _job_link(job_id).read_text(encoding="ascii").strip()
    except OSError:
        token = ""
    return token if _TOKEN.match(token) else token_of_label(file_name)


def age(manifest: dict[str, Any]) -> dt.timedelta:
    try:
        at = dt.datetime.fromisoformat(str(manifest.get("updated_at")))
    except ValueError:
        return dt.timedelta.max
    return timezone.now() - at


def is_active(manifest: dict[str, Any] | None) -> bool:
    """Waiting in the queue, or running and reporting."""
    if not manifest:
        return False
    state = manifest.get("state")
    return state == QUEUED or (state == RUNNING and age(manifest) < STALE_AFTER)


# --- the task ----------------------------------------------------------------------------------------------------

def _split(message: str) -> tuple[str, str]:
    zh, sep, en = message.partition(" / ")
    return (zh, en) if sep else (message, message)


@db_task()
def import_upload(token: str) -> None:
    """Run (or resume) the import of an uploaded file as the user who uploaded it."""
    from liaocheng.core.models import User

    from . import importers

    manifest = read_manifest(token)
    if manifest is None:
        log.warning("import upload %s: no manifest", token)
        return
    path = stored_file(token, manifest)
    user = User.objects.filter(pk=int(manifest.get("user") or 0), is_active=True).select_related("department").first()
    if path is None or user is None:
        update_manifest(token, state=FAILED, error_zh="上传的文件或上传人账号已不存在，未导入",
                        error_en="the uploaded file or the uploader's account no longer exists; nothing imported")
        return
    update_manifest(token, state=RUNNING, processed=0, error_zh="", error_en="", error_field="")
    last = {"at": 0.0}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last["at"] >= 1.0 or done >= total:
            last["at"] = now
            update_manifest(token, processed=done, total=max(total, int(manifest.get("total") or 0)))

    try:
        job = importers.run_import(
            manifest["kind"], path, acting_user=user, source_department=manifest.get("source_department") or None,
            batch_size=int(manifest.get("batch_size") or importers.BATCH_SIZE),
            resume_job=manifest.get("resume_job"), file_label=label_for(token, path.name), progress=progress,
            # no forked helper processes inside the worker's threads (a fork can inherit a held lock);
            # the CLI import, a single-threaded process, uses them
            workers=0)
    except DomainError as exc:
        update_manifest(token, state=FAILED, error_zh=exc.message_zh, error_en=exc.message_en,
                        error_field=exc.field or "")
    except PermissionDenied as exc:
        zh, en = _split(str(exc))
        update_manifest(token, state=FAILED, error_zh=zh, error_en=en, error_field="")
    except Exception as exc:  # recorded for the page; the job (if any) stays resumable
        log.exception("import upload %s failed", token)
        update_manifest(token, state=FAILED, error_zh=f"导入中断：{type(exc).__name__}，可继续导入",
                        error_en=f"the import stopped: {type(exc).__name__}; it can be resumed", error_field="")
    else:
        link_job(job.pk, token)
        update_manifest(token, state=DONE, job=job.pk)
