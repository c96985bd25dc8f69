"""Files replaced whole or not at all: written under another name beside the file, then renamed
onto it (`os.replace`, atomic within one folder), so that a reader, or a command stopped
midway (Ctrl-C, a full disk, a crash), finds the old file or the new one, never part of one.

Model files, their manifests and the models folder's pointers (`filter.modelfile`,
`train.promote`), batch outputs rewritten by `--retry-failed` (`filter.batch`), exported
examples (`train.store`, `train.bootstrap`) and evaluation reports (`train.evaluation`) are
all written so.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def temporary_beside(path: Path, mode: int = 0o644) -> Path:
    """A new, empty file in `path`'s folder (so that renaming it onto `path` is atomic) with
    `mode`: mkstemp makes files private, and a model or a pointer is read by other users and
    services. Raises OSError where the folder cannot take one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(fd)
    try:
        os.chmod(tmp, mode)
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def write_synced(path: Path, data: bytes) -> None:
    """Write `data` to `path` and flush it to the disk (before the rename that publishes it: a
    crash after the rename must not leave an empty file under the final name)."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def sync_file(path: Path) -> None:
    """Flush a file written by other means (`shutil.copyfile`, `joblib.dump`) to the disk."""
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


#: what `fsync` on a folder answers where the file system does not do it (the rename that
#: came before is done all the same); any other error, an I/O error above all, is raised
_NO_FOLDER_SYNC = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF,
                             errno.EACCES, errno.EPERM})


def sync_folder(folder: Path) -> None:
    """Flush a folder's entries (the renames into it) to the disk, where the file system can
    (a folder this user may not read, or a file system that refuses fsync on a folder, is
    passed over)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError as err:
        if err.errno in _NO_FOLDER_SYNC:
            return
        raise
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in _NO_FOLDER_SYNC:
            raise
    finally:
        os.close(fd)


@contextmanager
def written_whole(path: str | Path, *, keep_part_on: tuple[type[BaseException], ...] = ()
                  ) -> Iterator[BinaryIO]:
    """A binary file written under another name beside `path` and renamed onto it once
    complete, with the mode of the file it replaces: a command stopped midway (Ctrl-C, a full
    disk) leaves `path` as it was (it left it cut short: an export of 23,000 pages replaced
    by 4,600 lines). What it wrote is kept all the same when it stops on one of
    `keep_part_on` (a store damaged past its first pages: what could be read of it). A FIFO
    or a device (`/dev/stdout`) is written in place, as is a file in a folder this user may
    not write in; a symbolic link's target is replaced, not the link."""
    path = Path(path)
    device = str(path.absolute()).startswith(("/dev/", "/proc/"))  # /dev/stdout: a stream
    if path.is_symlink() and not device:
        path = Path(os.path.realpath(path))
    if path.is_file() and not os.access(path, os.W_OK):  # renaming onto it would replace it
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    part: Path | None = None
    if not device and (not path.exists() or path.is_file()):
        part = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.part")
        try:
            fh = open(part, "xb")  # as `open(path, "wb")` would make it: umask applied
        except OSError:
            part = None
    if part is None:
        with open(path, "wb") as fh:
            yield fh
        return

    def publish() -> None:
        # on the disk before the rename, and the rename after it: a crash of the machine just
        # after it left an empty file under the name
        with open(part, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(part, path)
        sync_folder(path.parent)

    try:
        with fh:
            if path.exists():
                os.chmod(part, stat.S_IMODE(path.stat().st_mode))
            yield fh
        publish()
    except BaseException as err:
        if isinstance(err, keep_part_on):
            publish()
        else:
            part.unlink(missing_ok=True)
        raise
