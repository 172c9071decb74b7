"""Plain text from a downloaded file: .txt/.md as UTF-8, .docx from word/document.xml (stdlib + defusedxml)."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

TEXT_SUFFIXES = frozenset({".txt", ".md"})
DOCX_SUFFIX = ".docx"
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | {DOCX_SUFFIX}
# word/document.xml is markup-heavy: allow this many times the download limit once unzipped, and no more
# (a zip bomb stops here instead of filling the worker's memory).
DOCX_XML_EXPANSION = 10
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


class UnsupportedDocument(Exception):
    """The file is not of a type we read, or is damaged; the message is safe to show (it never quotes content)."""


def is_supported_name(name: str) -> bool:
    """True when the file name's suffix is one we can turn into text."""
    return PurePosixPath(name.lower()).suffix in SUPPORTED_SUFFIXES


def document_text(name: str, content: bytes, max_bytes: int) -> str:
    """The text of a file, paragraphs separated by newlines; UnsupportedDocument for anything else."""
    suffix = PurePosixPath(name.lower()).suffix
    if suffix in TEXT_SUFFIXES:
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UnsupportedDocument("The text file is not UTF-8 encoded.") from None
    if suffix == DOCX_SUFFIX:
        return docx_text(content, max_bytes * DOCX_XML_EXPANSION)
    raise UnsupportedDocument("Only .docx, .txt and .md files can be read.")


def docx_text(content: bytes, max_xml_bytes: int) -> str:
    """The paragraphs (w:p) of a .docx body, each the concatenation of its w:t runs, one per line."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive, archive.open("word/document.xml") as member:
            xml = member.read(max_xml_bytes + 1)  # read at most the limit, whatever the header claims
        if len(xml) > max_xml_bytes:
            raise UnsupportedDocument("The document is too large once unpacked.")
        root = fromstring(xml, forbid_dtd=True)
        paragraphs: list[str] = []
        _collect(root, [], paragraphs)
    except (zipfile.BadZipFile, KeyError, ParseError, DefusedXmlException, RecursionError, EOFError):
        raise UnsupportedDocument("The file is not a readable .docx document.") from None
    return "\n".join(paragraphs)


def _collect(element: Element, current: list[str], paragraphs: list[str]) -> None:
    """Walk the XML in document order; text belongs to the innermost paragraph around it (text boxes, tables)."""
    for child in element:
        if child.tag == f"{_W}p":
            own: list[str] = []
            _collect(child, own, paragraphs)
            paragraphs.append("".join(own))
        elif child.tag == f"{_W}t":
            current.append(child.text or "")
        elif child.tag == f"{_W}tab":
            current.append("\t")
        elif child.tag in (f"{_W}br", f"{_W}cr"):
            current.append(" ")
        else:
            _collect(child, current, paragraphs)
