"""`GET /v1/model` and `POST /v1/model/reload`.

A model file is a pickle, and loading a pickle runs code, so a reload only ever loads a file
that is in the models folder (`filter.modelfile.models_dir()`), named by its bare file name, and
only after the workers have checked its sha256 against its manifest. No path a client sends is
ever opened: names with a separator or a parent reference are refused before touching the disk.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from fastapi import APIRouter, Depends

from filter import ModelError
from filter.modelfile import active_model_path, is_model_file_name, manifest_of, models_dir

from .deps import (KeyedRoute, MetricsDep, ParsedJsonRoute, PoolDep, SettingsDep, answer_head,
                   api_key_header, require_json)
from .errors import ApiError, documented
from .pool import CleaningPool, ModelInfo
from .schemas import ModelOut, ReloadRequest, ReloadResponse
from .settings import Settings

router = APIRouter(tags=["model"])



def _in_folder(path: Path, folder: Path) -> bool:
    """Whether `path` is a file of `folder` itself (`folder` resolved), not a symlink out of it.
    A symlink loop (`resolve` raises `RuntimeError`) or a path that cannot be read is not: it
    answered 500 to `GET /v1/model` and to every reload."""
    try:
        resolved = path.resolve()
        return resolved.parent == folder and resolved.is_file()
    except (OSError, RuntimeError):
        return False


def available_models() -> list[str]:
    """The names a reload takes: model files of the models folder with a manifest beside them
    (a symlink leading out of the folder is not one; whether the file matches its manifest is
    checked when it is loaded)."""
    folder = models_dir().resolve()
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.glob("*.joblib")
                  if is_model_file_name(p.name) and _in_folder(p, folder)
                  and manifest_of(p).is_file())


def check_models_dir() -> None:
    """`ModelError` when `NOISEFILTER_MODELS_DIR` names something that is not a folder (a typo,
    a volume not mounted or gone): at start-up and at a reload, rather than silently serving
    the packaged model (a reload after the folder went switched to it, answered 200)."""
    configured = os.environ.get("NOISEFILTER_MODELS_DIR")
    if configured and not Path(configured).is_dir():
        raise ModelError(f"NOISEFILTER_MODELS_DIR is {configured}, which is not a folder")


def resolve_model(name: str | None) -> Path:
    """The file a reload may load: the active model (None), or `name` in the models folder.
    Raises a 404 `ApiError` for anything else, without saying what exists outside the folder,
    and `ModelError` for a models folder that is gone (`check_models_dir`)."""
    check_models_dir()
    if name is None:
        return active_model_path()
    if not is_model_file_name(name):
        raise ApiError(404, "model_not_found", f"{name!r} is not a model file name; reload takes "
                                               f"the bare name of a .joblib file in the models folder")
    folder = models_dir().resolve()
    path = folder / name
    if not _in_folder(path, folder):
        raise ApiError(404, "model_not_found", f"there is no model {name!r} in the models folder "
                                               f"(available: {', '.join(available_models()) or 'none'})")
    return path


def public_manifest(manifest: dict) -> dict:
    """The manifest as `GET /v1/model` shows it, which needs no key: without what it records of
    the machine that trained the model (the example store's absolute path, the example files'
    paths, in the training data and in the holdout's scores of `train --holdout`: their names
    are kept) and without the ids of the training pages (their number is kept), which a service
    that guards its example store with a key would otherwise tell anyone."""
    shown = dict(manifest)
    if isinstance(shown.get("training_data"), dict):
        shown["training_data"] = _sources_by_name(shown["training_data"])
    if isinstance(shown.get("metrics"), dict):
        shown["metrics"] = {name: _sources_by_name(value) if isinstance(value, dict) else value
                            for name, value in shown["metrics"].items()}
    return shown


def _sources_by_name(record: dict) -> dict:
    """A manifest's record of examples (training data, a holdout) with its store and files by
    name only and its page ids and document hashes counted."""
    record = dict(record)
    if record.get("store"):
        record["store"] = Path(str(record["store"])).name
    if isinstance(record.get("files"), list):
        record["files"] = [{**f, "path": Path(str(f["path"])).name}
                           if isinstance(f, dict) and "path" in f else f for f in record["files"]]
    for key in ("example_ids", "document_hashes"):
        if isinstance(record.get(key), list):
            record[key] = len(record[key])
    return record


def describe(pool: CleaningPool, settings: Settings, info: ModelInfo | None = None) -> dict:
    """The model being served (or `info`, one just switched to), as `GET /v1/model` shows it,
    with the service's `favor_precision` default: the same model cleans differently under
    `serve --favor-precision`, and a client comparing results needs to know which it gets."""
    info = info or pool.info
    return {
        "version": info.version,
        "file": Path(info.path).name,
        "labels": info.labels,
        "loaded_at": datetime.fromtimestamp(info.loaded_at, timezone.utc).isoformat(timespec="seconds"),
        "workers": pool.live,
        "favor_precision": settings.favor_precision,
        "manifest": public_manifest(info.manifest),
        "available": available_models(),
    }


@router.get("/v1/model", response_model=ModelOut, summary="The model being served",
            responses=documented(422, s422="A query parameter it does not take."))
async def get_model(pool: PoolDep, settings: SettingsDep) -> dict:
    return describe(pool, settings)


async def reload_model(pool: PoolDep, metrics: MetricsDep, settings: SettingsDep,
                       body: ReloadRequest | None = None) -> dict:
    """Load a model from the models folder (`{"model": "name.joblib"}`; without a name, the
    folder's active model) in a new set of cleaning processes and switch to it once all have
    loaded it. Requests already being cleaned finish on the previous model; a model that fails
    to load changes nothing. Reloading the model already served is a no-op (`changed: false`,
    `restarted: false`), unless the pool has lost cleaning processes it could not replace
    (`not_ready` answers say so): a complete new set then starts on it (`restarted: true`).
    An `ACTIVE` that cannot be read or names no file of the folder is answered as a model that
    cannot be loaded (`model_unusable`), not as a failure of the service."""
    try:
        reloaded = await pool.reload(resolve_model(body.model if body else None))
    except ModelError as err:
        metrics.reloads.labels("failed").inc()
        raise ApiError(422, "model_unusable", f"{err}; still serving {pool.info.version}") from err
    metrics.reloads.labels("changed" if reloaded.changed else
                           "restarted" if reloaded.restarted else "unchanged").inc()
    metrics.model_loaded(reloaded.info)
    # this reload's own before and after: another may have followed it while it answers
    return {"changed": reloaded.changed, "restarted": reloaded.restarted,
            "previous": reloaded.previous, "model": describe(pool, settings, reloaded.info)}


class ReloadRoute(KeyedRoute, ParsedJsonRoute):
    """The key first (`KeyedRoute`), then the body's objects and arrays counted before it is
    parsed (`ParsedJsonRoute`): 10 million ``{}`` held the event loop for almost a second and
    took 770 MB before FastAPI found the body was not an object."""

    #: the body is one object
    max_structures = 10


# a route of `router` with its own route class (not a router included in it: the metrics
# could not name what such a router answered before routing, a body over the limit)
router.add_api_route(
    "/v1/model/reload", reload_model, methods=["POST"], route_class_override=ReloadRoute,
    response_model=ReloadResponse, summary="Switch to another model",
    dependencies=[Depends(api_key_header), Depends(require_json)],
    responses=documented(400, 401, 403, 404, 413, 415, 422, s404="No such model in the models folder.",
                         s422="The request is invalid, or the model file cannot be loaded "
                              "(`model_unusable`; the previous model is still served)."),
)


answer_head(router)
