"""Reading the user's files and checking the paths they give, with one-line errors.

A derivation file is read only when it is a regular file of at most
:data:`MAX_FILE_BYTES`: a directory, a device such as ``/dev/zero``, a named pipe or
a socket is refused before anything is read from it (opening a pipe does not wait
for a writer), and a larger file is refused without reading it whole. Every
:class:`OSError` on a path (a name too long, no permission, a missing folder) becomes
a :class:`~autograd_tiny.errors.UsageError` whose one-line message names the path,
escaped for a terminal, and the reason.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ._numeric import printable
from .errors import UsageError

#: The largest derivation file read, in bytes (10 MB; the shipped examples are about 1 KB).
MAX_FILE_BYTES = 10_000_000


def shown(path: str | os.PathLike[str]) -> str:
    """Return ``path`` quoted for a one-line message: control characters, line breaks and
    other unprintable characters written as escapes (``'a\\nb'``), so it stays on its line
    (``repr`` escapes every character that :meth:`str.isprintable` refuses)."""
    return repr(os.fspath(path))


def reason(exc: OSError) -> str:
    """Return the reason an OS call failed, as one line (``File name too long``)."""
    text = exc.strerror or str(exc) or type(exc).__name__
    return " ".join(printable(text).split())


def source_name(path: str | os.PathLike[str]) -> str:
    """Return how messages about a file's contents name it: the path as written, with
    unprintable characters escaped (``a\\nb.toml``), not quoted (``seed003.toml: line 4 ...``)."""
    return printable(os.fspath(path))


def path_error(path: str | os.PathLike[str], exc: OSError, what: str = "") -> UsageError:
    """Return the UsageError for ``exc`` raised on ``path``: ``WHAT 'path': reason``.

    ``what`` says which option or file it is (``--svg``); the path is escaped by :func:`shown`.
    """
    prefix = f"{what} " if what else ""
    return UsageError(f"{prefix}{shown(path)}: {reason(exc)}")


def stat_or_none(path: str | os.PathLike[str], what: str = "") -> os.stat_result | None:
    """Return ``os.stat(path)``, or None when nothing is there (the path can still be created).

    Raises:
        UsageError: any other OS error (a name too long, no permission, a file where a
            folder should be), in one line naming ``what`` and the path.
    """
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise path_error(path, exc, what) from None
    except ValueError:  # an embedded NUL character
        raise UsageError(f"{what + ' ' if what else ''}{shown(path)}: a path cannot hold a "
                         "NUL character") from None


def _kind(mode: int) -> str:
    """Return what a file of mode ``mode`` is, for a message (``a directory``, ``a named pipe``)."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _not_regular(path: str | os.PathLike[str], mode: int, what: str) -> UsageError:
    kind = _kind(mode)
    return UsageError(f"{source_name(path)}: is {kind}, not a {what}; give the path of a {what}"
                      if kind != "not a regular file"
                      else f"{source_name(path)}: not a regular file; give the path of a {what}")


def _too_large(path: str | os.PathLike[str], size: int | None, limit: int) -> UsageError:
    got = f" ({size:,} bytes)" if size is not None else ""
    return UsageError(f"{source_name(path)}: the file is larger than {limit:,} bytes{got}; "
                      "a derivation file is a few kilobytes of TOML")


def read_regular_file(path: str | os.PathLike[str], what: str = "derivation file",
                      limit: int = MAX_FILE_BYTES) -> bytes:
    """Return the bytes of the regular file ``path``, at most ``limit`` of them.

    Nothing is read from a directory, device, named pipe or socket, and opening one does
    not block.

    Raises:
        UsageError: the path is missing or not a regular file, the file is larger than
            ``limit`` bytes, or the OS refuses (one line naming the path and the reason).
    """
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise UsageError(f"{source_name(path)}: no such file") from None
    except OSError as exc:
        raise UsageError(f"{source_name(path)}: cannot read it: {reason(exc)}") from None
    except ValueError:  # an embedded NUL character
        raise UsageError(f"{source_name(path)}: a path cannot hold a NUL character") from None
    if not stat.S_ISREG(info.st_mode):
        raise _not_regular(path, info.st_mode, what)
    if info.st_size > limit:
        raise _too_large(path, info.st_size, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UsageError(f"{source_name(path)}: cannot read it: {reason(exc)}") from None
    try:
        info = os.fstat(fd)  # what was opened, should the path have changed since the stat
        if not stat.S_ISREG(info.st_mode):
            raise _not_regular(path, info.st_mode, what)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{source_name(path)}: cannot read it: {reason(exc)}") from None
    finally:
        os.close(fd)
    if len(data) > limit:  # grew since the stat, or a file whose size the OS does not report
        raise _too_large(path, None, limit)
    return data


def check_output_dir(path: str, option: str) -> None:
    """Raise UsageError unless ``path`` can be the folder the files are written into.

    It may be missing (it is created), not empty, not a file, and the OS must accept
    the name (checked before the work, so a long run does not end in an error).
    """
    if not path:
        raise UsageError(f"{option} needs a directory name, got an empty string")
    info = stat_or_none(path, option)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{option} {shown(path)} is a file; give a directory (it is created "
                         "if missing)")


def check_output_file(path: str, option: str, what: str = "file") -> None:
    """Raise UsageError unless ``path`` can name the file to write (not empty, not a
    folder, a name the OS accepts; checked before the work)."""
    if not path:
        raise UsageError(f"{option} needs the name of the {what} to write, got an empty string")
    info = stat_or_none(path, option)
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(f"{option} {shown(path)} is a directory; give the name of the {what} "
                         "to write")
    parent = Path(path).parent
    info = stat_or_none(parent, option)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        raise path_error(path, OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR)), option)
