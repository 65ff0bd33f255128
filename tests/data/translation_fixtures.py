"""Tiny files in the real formats of the offline translation sources, written by tests.

* `write_mo`: a compiled gettext catalog (GNU `.mo`, what `msgfmt` writes).
* `DING_LINES`: lines of the Ding dictionary (`usr/share/trans/de-en`).
* `write_deb_root`: a fake Debian install root with Ding, LibreOffice de/fr
  catalogs and Asterisk prompt transcripts at their package paths, for
  `T2T_DEB_ROOT`.
"""

import gzip
import itertools
import os
import struct

MO_MAGIC = 0x950412DE

DING_LINES = [
    "# Version :: devel 2023-01-30",
    "# License :: GPL Version 2 or later; GNU General Public License",
    "Aal {m} [zool.] | Aale {pl} :: eel | eels",
    "Beethoven war ein Schüler von Haydn. :: Beethoven was a pupil of Haydn.",
    "Das ist mir egal. [ugs.]; Das ist mir wurscht. [ugs.] :: I don't care about it. [coll.]",
    "jdm. etw. geben {vt} | Er gibt mir das Buch. :: to give sb sth | He gives me the book.",
    "Schalt das Licht ein! :: Turn on the light!",
    "Er kam zu spät. | Sie kam früh. :: He came late.",  # misaligned: skipped
    "Wir haben genug Zeit. :: we have plenty of time",  # English is not a sentence
    "China hat Bereitschaft / Interesse bekundet. :: China has signalled readiness.",
]
# (english, german) the sentence filter keeps from DING_LINES.
DING_SENTENCES = [
    ("Beethoven was a pupil of Haydn.", "Beethoven war ein Schüler von Haydn."),
    ("China has signalled readiness.", "China hat Bereitschaft / Interesse bekundet."),
    ("He gives me the book.", "Er gibt mir das Buch."),
    ("I don't care about it.", "Das ist mir egal."),
    ("Turn on the light!", "Schalt das Licht ein!"),
]
LO_DIR = "usr/lib/libreoffice/program/resource/{}/LC_MESSAGES"
ASTERISK = "usr/share/doc/asterisk-core-sounds-{0}/core-sounds-{0}.txt.gz"


def write_mo(path, messages, charset="UTF-8"):
    """Writes `{msgid: msgstr}` as a little-endian GNU .mo file.

    Keys may hold a context (`"ctx\\x04msgid"`) or plural forms joined by
    NUL, as in real catalogs; the header entry (`""`) names `charset`.
    """
    messages = dict(messages)
    messages[""] = (f"Content-Type: text/plain; charset={charset}\n"
                    "Plural-Forms: nplurals=2; plural=(n != 1);\n")
    keys = sorted(messages, key=lambda k: k.encode(charset))
    originals = [k.encode(charset) for k in keys]
    translations = [messages[k].encode(charset) for k in keys]
    count = len(keys)
    start = 28 + 16 * count
    table, blob = [], b""
    for text in originals + translations:
        table.append(struct.pack("<2I", len(text), start + len(blob)))
        blob += text + b"\0"
    header = struct.pack("<7I", MO_MAGIC, 0, count, 28, 28 + 8 * count, 0, start)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(header + b"".join(table) + blob)


def ui_messages(language, count):
    """`count` distinct English UI messages and their `language` translations."""
    words = {"de": {"Insert": "Einfügen", "Delete": "Löschen", "Copy": "Kopieren",
                    "the": "die", "selected": "ausgewählte", "current": "aktuelle",
                    "table": "Tabelle", "row": "Zeile", "column": "Spalte", "cell": "Zelle"},
             "fr": {"Insert": "Insérer", "Delete": "Supprimer", "Copy": "Copier",
                    "the": "la", "selected": "sélectionnée", "current": "actuelle",
                    "table": "table", "row": "ligne", "column": "colonne", "cell": "cellule"}}
    w = words[language]
    triples = itertools.product(["Insert", "Delete", "Copy"], ["selected", "current"],
                                ["table", "row", "column", "cell"])
    messages = {}
    for verb, adjective, noun in itertools.islice(triples, count):
        english = f"~{verb} the {adjective} {noun}"
        messages[english] = f"{w['the']} {w[adjective]} {w[noun]} ~{w[verb]}"
    return messages


def write_deb_root(root, ding_lines=DING_LINES, extra_ui=None):
    """A fake install root with the four sources; returns `root`."""
    ding = os.path.join(root, "usr/share/trans/de-en")
    os.makedirs(os.path.dirname(ding), exist_ok=True)
    with open(ding, "w", encoding="utf-8") as f:
        f.write("\n".join(ding_lines) + "\n")
    for language in ("de", "fr"):
        messages = dict(ui_messages(language, 24))
        messages.update({"%1 rows selected": "%1 Zeilen", "OK": "OK",
                         "Open <b>file</b> now": "Datei jetzt öffnen"})
        messages.update((extra_ui or {}).get(language, {}))
        write_mo(os.path.join(root, LO_DIR.format(language), "sc.mo"), messages)
    prompts = {"en": ["; Asterisk prompts", "agent-loginok: Agent logged in.",
                      "beep: [this is a simple beep tone]", "conf-locked: This conference is "
                      "locked.", "vm-goodbye: Goodbye."],
               "fr": ["agent-loginok: Agent connecté.", 'conf-locked: "Cette conférence est '
                      'verrouillée."', "vm-goodbye: Au revoir."]}
    for language, lines in prompts.items():
        path = os.path.join(root, ASTERISK.format(language))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
    return root
