"""Compiled gettext catalogs (`.mo` files) as parallel text.

A `.mo` file maps each English `msgid` to its translation `msgstr`. The
reader parses the binary format itself (magic `0x950412de`, either byte
order) rather than through `gettext.GNUTranslations`, which rejects some
catalogs' headers (e.g. net-tools.mo) and keeps plural forms as tuples:
here a `msgctxt` prefix (`context\\x04msgid`) is dropped, a plural entry
gives its singular forms, and the header (`msgid ""`) names the charset.

Example:

```python
catalog = read_catalogs("/usr/lib/libreoffice/program/resource/de/LC_MESSAGES")
catalog["Insert Page Break"]          # "Seitenumbruch einfügen"
```
"""

import glob
import os
import re
import struct

from t2t_multimodel.errors import DataError

_MAGIC = 0x950412DE
_CHARSET_RE = re.compile(r"charset=([\w.-]+)", re.IGNORECASE)


def read_mo(path):
    """`{msgid: msgstr}` of one `.mo` file (contexts dropped, plurals singular)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 20:
        raise DataError(f"not a gettext .mo file (too short). Received: path={path}")
    for order in ("<", ">"):
        if struct.unpack(order + "I", data[:4])[0] == _MAGIC:
            break
    else:
        raise DataError(f"not a gettext .mo file (bad magic number). Received: path={path}")
    _, count, originals, translations = struct.unpack(order + "4I", data[4:20])

    def entry(table, i):
        length, offset = struct.unpack(order + "2I", data[table + 8 * i:table + 8 * i + 8])
        if offset + length > len(data):
            raise DataError(f"truncated gettext .mo file. Received: path={path}")
        return data[offset:offset + length]

    raw = [(entry(originals, i), entry(translations, i)) for i in range(count)]
    charset = "utf-8"
    for key, value in raw:
        if key == b"":
            match = _CHARSET_RE.search(value.decode("ascii", errors="replace"))
            if match and match.group(1).upper() != "CHARSET":
                charset = match.group(1)
    try:
        "".encode(charset)
    except LookupError:
        charset = "utf-8"
    catalog = {}
    for key, value in raw:
        if not key:
            continue
        msgid = key.split(b"\x04")[-1].split(b"\x00")[0].decode(charset, errors="replace")
        msgstr = value.split(b"\x00")[0].decode(charset, errors="replace")
        if msgid and msgstr:
            catalog.setdefault(msgid, msgstr)
    return catalog


def read_catalogs(directory):
    """The merged catalog of every `*.mo` file in `directory` (sorted; first wins)."""
    paths = sorted(glob.glob(os.path.join(directory, "*.mo")))
    if not paths:
        raise DataError(f"no .mo catalogs in the directory. Received: directory={directory}")
    catalog = {}
    for path in paths:
        for msgid, msgstr in read_mo(path).items():
            catalog.setdefault(msgid, msgstr)
    return catalog
