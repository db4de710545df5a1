"""Writing output files completely or not at all."""

import os
import stat
import tempfile
from pathlib import Path


def write_atomically(path, write):
    """Call ``write(temporary_path)``, then rename the result to ``path``.

    The temporary file sits beside ``path``, so the rename is atomic: an error
    or an interruption leaves either the old file or none, never a partial one.

    Parameters
    ----------
    path : str or path-like
        The final file.
    write : callable
        Writes the whole file to the path it is given.
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Cannot write {path}: no folder {path.parent}.")
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".partial"
    )
    os.close(descriptor)
    try:
        write(temporary)
        # mkstemp makes the file private (0600): give it the mode an ordinary
        # new file gets (0666 less the umask), or the mode of the file it
        # replaces.
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _mode_for(path):
    """The permission bits a file written at ``path`` should get."""
    if path.exists():
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
