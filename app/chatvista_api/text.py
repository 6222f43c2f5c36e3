"""What text one person shows others may contain, judged by Unicode's own properties (``unicodedata``).

Text is stored in Normalization Form C, so that one name has one spelling; :func:`nfc` runs before any
length is checked, since NFC writes some characters as two (U+0958 among the composition exclusions). A
**label** (a name, a meeting
title) is shown to every participant as who someone is or what a meeting is, so nothing in it may be
invisible or change how the text around it is drawn, and something in it must be visible. **Free text**
(a description, a chat message) may run over lines and needs more of Unicode (emoji tag sequences, soft
hyphens), so it only loses controls and the characters that reorder what follows them.
"""

from __future__ import annotations

import unicodedata

# General categories that draw nothing themselves or change how their neighbours are drawn: controls (Cc:
# C0, DEL and C1, U+0085 among them), format characters (Cf: bidi marks, overrides and isolates, zero-width
# spaces, the BOM, tag characters), surrogates (Cs), private use (Co: no glyph anyone agrees on),
# unassigned code points (Cn), and line and paragraph separators (Zl, Zp).
_HIDDEN_IN_LABELS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Letters, numbers, punctuation and symbols draw something; marks and spaces only with them.
_VISIBLE = frozenset("LNPS")
# What a joiner may stand between: visible characters, and the marks on them (a virama, an emoji's
# variation selector).
_JOINABLE = frozenset("LMNPS")
# Unicode's Join_Control property (PropList.txt) is exactly these two format characters, which Persian,
# Indic scripts and emoji sequences need between two characters; unicodedata does not carry the property.
_JOIN_CONTROLS = frozenset({"\N{ZERO WIDTH NON-JOINER}", "\N{ZERO WIDTH JOINER}"})
# Bidi classes of the explicit formatting characters (UAX #9): embeddings, overrides, isolates and their
# terminators reorder the text after them, so "gnp.exe" can be shown as "exe.png".
_REORDERING = frozenset({"LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"})
_LINE_BREAKS = frozenset("\t\n\r")


def _described(char: str) -> str:
    return f"U+{ord(char):04X} ({unicodedata.name(char, unicodedata.category(char))})"


def _draws_nothing(char: str) -> bool:
    """A letter or symbol with no glyph: the Hangul fillers (Lo, and default-ignorable in Unicode's
    DerivedCoreProperties.txt) and the blank braille pattern. Unicode names say so; no category does."""
    name = unicodedata.name(char, "")
    return name.endswith("FILLER") or name == "BRAILLE PATTERN BLANK"


def _visible(char: str) -> bool:
    return unicodedata.category(char)[0] in _VISIBLE and not _draws_nothing(char)


def _joinable(char: str) -> bool:
    return unicodedata.category(char)[0] in _JOINABLE and not _draws_nothing(char)


def nfc(value: object) -> object:
    """A string in Normalization Form C; anything else as it is, for its type to be refused after."""
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def check_label(text: str) -> str:
    """``text`` (in NFC), or ``ValueError`` naming the first character that may not be in a label."""
    for i, char in enumerate(text):
        if unicodedata.category(char) not in _HIDDEN_IN_LABELS:
            continue
        joins = char in _JOIN_CONTROLS and 0 < i < len(text) - 1 and _joinable(text[i - 1]) and _joinable(text[i + 1])
        if not joins:
            raise ValueError(f"must not contain {_described(char)}: it is invisible or changes how text is shown")
    if not any(_visible(char) for char in text):
        raise ValueError("must contain a visible character")
    return text


def check_free_text(text: str) -> str:
    """``text`` (in NFC), or ``ValueError`` naming the first control or reordering character in it."""
    for char in text:
        category = unicodedata.category(char)
        if (category == "Cc" and char not in _LINE_BREAKS) or category == "Cs":
            raise ValueError(f"must not contain {_described(char)}: it is a control character")
        if unicodedata.bidirectional(char) in _REORDERING:
            raise ValueError(f"must not contain {_described(char)}: it reorders the text after it")
    return text
