"""A page saved from a browser (``.html``/``.htm``) as canonical text: the Markdown subset the guideline parser
reads (``#`` headings, ``-`` bullets, ``| a | b |`` rows, blank lines between paragraphs), holding only the page's
content. Saved pages can be hostile (nested 100,000 deep, end tags omitted, text decoded twice): the tree is walked
with an explicit stack, omitted ``</td>``/``</tr>`` are closed here, every amplification is capped, and ftfy repairs
mojibake with a note in ``repairs``."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import ftfy
import ftfy.bad_codecs  # noqa: F401  (registers "sloppy-windows-1252": windows-1252 as browsers decode it)
from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString, PageElement, PreformattedString

from assistant.errors import CorpusError
from assistant.ingest.extracted import ExtractedText

MAX_HTML_BYTES = 20_000_000  # a saved guideline page is far smaller; the parse tree costs ~20x the bytes
MAX_PADDING_CELLS = 2_000_000  # empty cells a page's tables may add to line up (the one output that can outgrow input)
MAX_LIST_INDENT = 8  # deeper lists are indented like this level, so indentation cannot grow quadratically
MAX_TITLE_CHARS = 300  # a longer <title> is an unclosed one that swallowed the page

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LISTS = frozenset({"ul", "ol", "menu", "dir"})
_SECTIONING = frozenset({"main", "article", "section"})
_PAGE_CHROME = frozenset({"header", "footer", "aside"})  # chrome only outside main/article/section
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search"})
_TABLE_PARTS = frozenset({"table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th"})
_NO_TEXT = frozenset({"script", "style", "noscript", "template", "svg", "math", "title"})
_DROP = _NO_TEXT | set(
    "nav meta link base button input select textarea option optgroup datalist output progress meter iframe frame "
    "frameset object embed param canvas audio video source track map area img picture".split()
)
_BLOCK_NAMES = """address article aside blockquote body center dd details dialog div dl dt fieldset figcaption figure
footer form header hgroup hr html legend li main nav p pre section summary"""
_BLOCKS = _LISTS | _TABLE_PARTS | set(_HEADINGS) | set(_BLOCK_NAMES.split())  # a boundary: a new paragraph
_INLINE_OWNERS = frozenset({"heading", "cell", "caption"})  # their text stays on one line, whatever is inside
_OWNERS = _INLINE_OWNERS | {"li"}

_META_CHARSET = re.compile(rb"""<meta\b[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml\b[^>]{0,500}\?>")
_HIDDEN_STYLE = re.compile(r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden)\b", re.IGNORECASE)
_CITATION = re.compile(r"\d{1,3}(?:\s*[,–-]\s*\d{1,3})*")
_EXPONENT = re.compile(r"[-−+]?\d{1,3}")
_UNIT_END = re.compile(r"(?:^|\W)(?:m|cm|mm|km|dm|µm|μm|ft|in)$")
_SUPERSCRIPTS = str.maketrans("0123456789-−+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁻⁺")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_AS_WINDOWS_1252 = frozenset({"cp1252", "iso8859-1", "latin-1", "ascii"})  # as browsers decode these labels
# Not shown by a browser: soft hyphen, zero-width space, word joiner, BOM, control characters.
_INVISIBLE = dict.fromkeys([0xAD, 0x200B, 0x2060, 0xFEFF, 0x7F, *range(0x09), *range(0x0E, 0x1C), *range(0x80, 0xA0)])
# Entities are decoded already (a literal "&amp;" must stay); curly quotes and full-width forms are text, not damage;
# control characters are dropped with the invisible ones, not reported as repairs.
_FTFY = ftfy.TextFixerConfig(
    unescape_html=False, uncurl_quotes=False, fix_character_width=False, remove_control_chars=False, explain=True
)

_Cell = tuple[str, int, int]  # text, colspan, rowspan
_Block = tuple[str, str]  # kind ("#1".."#6", "p", "table", "-<list number>" for bullets), text


def extract_html(data: bytes, name: str) -> ExtractedText:
    """A saved page as canonical text, else a one-line :class:`CorpusError` naming ``name``; nothing else escapes."""
    if len(data) > MAX_HTML_BYTES:
        raise CorpusError(f"{name}: {len(data):,} bytes is larger than the {MAX_HTML_BYTES:,}-byte limit for pages.")
    if not data:
        raise CorpusError(f"{name}: the file is empty; save the page from the browser again.")
    repairs: list[str] = []
    soup = _parse(_decode(data, name, repairs), name)
    survey = _Survey()
    _walk(soup, survey)
    renderer = _render_content(soup, survey, name, repairs)
    title = renderer.clean(soup.title.get_text()[: 4 * MAX_TITLE_CHARS]) if soup.title else ""
    if title and len(title) <= MAX_TITLE_CHARS and not any(kind == "#1" for kind, _ in renderer.blocks):
        renderer.blocks.insert(0, ("#1", "# " + title))
    return ExtractedText(text=_join(renderer.blocks), repairs=repairs + renderer.repair_notes())


def _decode(data: bytes, name: str, repairs: list[str]) -> str:
    """As a browser does (a BOM, else a declared charset, else UTF-8); bad bytes become U+FFFD with a note."""
    codec: str | None = next((codec for bom, codec in _BOMS if data.startswith(bom)), None)  # the codec drops it
    if codec is None and (match := _XML_ENCODING.search(data, 0, 32_768) or _META_CHARSET.search(data, 0, 32_768)):
        codec = _codec_for(match.group(1).decode("ascii"))
        if codec is None:
            repairs.append(f"{name}: the declared charset {match.group(1).decode()!r} is not supported; read as UTF-8.")
    try:
        return data.decode(codec or "utf-8")
    except UnicodeDecodeError as exc:
        repairs.append(f"{name}: bytes not valid as {codec or 'utf-8'} from byte {exc.start:,} became U+FFFD.")
        return data.decode(codec or "utf-8", errors="replace")


def _codec_for(label: str) -> str | None:
    """A charset label's codec as browsers read it (ISO-8859-1 as windows-1252, "UTF-16" in a ``<meta>`` as UTF-8)."""
    try:
        codec = codecs.lookup(label).name
        "".encode(codec)  # text codecs only: "undefined" and "rot13" (not bytes <-> text) raise here
    except (LookupError, UnicodeError):
        return None
    if codec in _AS_WINDOWS_1252:
        return "sloppy-windows-1252"
    return "utf-8" if codec.startswith(("utf-16", "utf-32", "utf-7")) else codec


def _parse(text: str, name: str) -> BeautifulSoup:
    """Python's own HTML parser, whose every failure becomes a :class:`CorpusError`. The XML declaration and
    NULs go; the newline keeps Beautiful Soup from warning that text without tags looks like a file name."""
    text = _XML_DECLARATION.sub("", text, count=1).replace("\x00", "")
    try:
        return BeautifulSoup(text + "\n", "html.parser")
    except Exception as exc:  # any parser failure is a property of this file
        detail = " ".join(str(exc).split())[:200]
        raise CorpusError(f"{name}: could not be parsed as HTML ({type(exc).__name__}: {detail}).") from exc


def _walk(root: Tag, handler: _Survey | _Renderer) -> None:
    """``root``'s subtree in document order with an explicit stack (deep nesting must not recurse): ``start``
    says whether to descend, ``end`` follows for exactly those tags; comments, doctypes and CDATA are not text."""
    if not handler.start(root):
        return
    stack: list[tuple[Tag, Iterator[PageElement]]] = [(root, iter(root.contents))]
    while stack:
        tag, children = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            handler.end(tag)
        elif isinstance(child, Tag):
            if handler.start(child):
                stack.append((child, iter(child.contents)))
        elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
            handler.text(str(child))


def _attr(tag: Tag, key: str) -> str:
    """An attribute as one lower-case string (multi-valued ones joined); ``""`` when absent."""
    value = tag.attrs.get(key) if tag.attrs else None
    return "" if value is None else (value if isinstance(value, str) else " ".join(value)).strip().lower()


def _is_hidden(tag: Tag) -> bool:
    """``hidden`` (not ``until-found``: search reveals it), ``aria-hidden``, ``display:none``, a closed dialog."""
    if tag.name == "dialog" and "open" not in tag.attrs:
        return True
    if "hidden" in tag.attrs and _attr(tag, "hidden") != "until-found":
        return True
    return _attr(tag, "aria-hidden") == "true" or bool(_HIDDEN_STYLE.search(_attr(tag, "style")))


def _span(tag: Tag, key: str, limit: int) -> int:
    """A colspan/rowspan as browsers read it: leading digits, at least 1, at most the standard's limit."""
    match = re.match(r"\d{1,6}", _attr(tag, key))
    return min(max(int(match.group()), 1), limit) if match else 1


class _Survey:
    """First pass: ``<main>``, the top-level ``<article>``s outside chrome, and the tables that only lay out
    (holding a table or a heading, or one row or column): read as blocks, which needs their whole subtree."""

    def __init__(self) -> None:
        self.main: Tag | None = None
        self.articles: list[Tag] = []
        self.layout_tables: set[int] = set()
        self._tables: list[list[int]] = []  # open tables: [id, rows, cells in the current row, widest row]
        self._undo: list[tuple[bool, bool, bool]] = []  # per open tag: the flags below as they were before it
        self._chrome = self._in_article = self._sectioning = False  # inside chrome, an article, main/article/section

    def start(self, tag: Tag) -> bool:
        name = tag.name
        if name in _NO_TEXT:
            return False
        chrome = name in ("nav", "aside") or (name in _PAGE_CHROME and not self._sectioning)
        chrome = chrome or _attr(tag, "role") in _CHROME_ROLES or _is_hidden(tag)
        if name == "main" and self.main is None and not (chrome or self._chrome):
            self.main = tag
        elif name == "article" and not (chrome or self._chrome or self._in_article):
            self.articles.append(tag)
        if (name in _HEADINGS or name == "table") and self._tables:
            self.layout_tables.add(self._tables[-1][0])  # the tables around that one hold a table: layout already
        if name == "table":
            self._tables.append([id(tag), 0, 0, 0])
        elif name in ("tr", "td", "th") and self._tables:
            table = self._tables[-1]
            table[1:3] = [table[1] + 1, 0] if name == "tr" else [max(table[1], 1), table[2] + 1]
            table[3] = max(table[3], table[2])
        self._undo.append((self._chrome, self._in_article, self._sectioning))
        self._chrome, self._in_article = self._chrome or chrome, self._in_article or name == "article"
        self._sectioning = self._sectioning or name in _SECTIONING
        return True

    def end(self, tag: Tag) -> None:
        self._chrome, self._in_article, self._sectioning = self._undo.pop()
        if tag.name == "table" and self._tables:
            key, rows, _, widest = self._tables.pop()
            if rows <= 1 or widest <= 1:
                self.layout_tables.add(key)

    def text(self, text: str) -> None:
        """The survey reads no text."""


@dataclass
class _Frame:  # an open element that owns text (heading, li, cell, caption) or builds a table (table, row)
    kind: str
    tag: Tag | None
    level: int = 0  # heading level, list depth
    parts: list[str] = field(default_factory=list)  # a cell's text
    cells: list[_Cell] = field(default_factory=list)  # a row's cells
    rows: list[list[_Cell]] = field(default_factory=list)  # a table's rows


class _Renderer:
    """Second pass: text gathers in ``buf`` until a block boundary flushes it into the innermost text owner's
    block. Owners and tables live on ``frames``, closed early where HTML lets end tags be omitted."""

    def __init__(self, survey: _Survey, name: str, strict: bool) -> None:
        self.survey, self.name, self.strict = survey, name, strict
        self.blocks: list[_Block] = []
        self.buf: list[str] = []
        self.frames: list[_Frame] = []
        self.open: dict[int, _Frame] = {}
        self.undo: list[tuple[bool, int, tuple[int, int] | None]] = []  # per open tag: the state before it
        self.steps: dict[str, None] = {}  # what ftfy did, as an ordered set
        self.example = ("", "")
        self.sectioning = False  # inside main/article/section, where header/footer/aside are the content's own
        self.flushes = self.list_depth = self.list_group = self.padding = self.repaired = 0

    def start(self, tag: Tag) -> bool:
        if self._dropped(tag):
            return False
        name, inline = tag.name, self._inline()
        self.undo.append((self.sectioning, self.list_depth, (self.flushes, len(self.buf)) if name == "sup" else None))
        self.sectioning = self.sectioning or name in _SECTIONING
        if name == "br":
            self.buf.append(" ")
        elif name in _HEADINGS or name == "li":
            if inline or (name != "li" and self._owner() is not None):
                self.buf.append(" ")  # a heading inside a list item, a list inside a cell: one line
            else:
                self._flush()
                level = _HEADINGS.get(name) or min(max(self.list_depth - 1, 0), MAX_LIST_INDENT)
                self._push(_Frame("heading" if name in _HEADINGS else "li", tag, level))
        elif name in _LISTS and not inline:
            self._flush()
            self.list_depth += 1
            self.list_group += self.list_depth == 1
        elif name in _TABLE_PARTS:
            self._start_table_part(tag)
        elif name in _BLOCKS:
            self._break()
        return True

    def end(self, tag: Tag) -> None:
        self.sectioning, self.list_depth, sup = self.undo.pop()
        if sup is not None:
            self._end_sup(*sup)
        frame = self.open.get(id(tag))
        while frame is not None and self.frames and self._close_top() is not frame:
            pass
        if frame is None and tag.name in _BLOCKS:
            self._break()

    def text(self, text: str) -> None:
        self.buf.append(text)

    def finish(self) -> None:  # close whatever the page left open
        while self.frames:
            self._close_top()
        self._flush()

    def clean(self, raw: str) -> str:
        """One line; ftfy first: only non-ASCII can be mojibake, and "Â\\xa0" is only seen before whitespace goes."""
        if not raw.isascii():
            fixed = ftfy.fix_and_explain(raw, _FTFY)
            if fixed.text != raw:
                self.repaired += 1
                self.steps.update(dict.fromkeys(f"{action} {what}" for action, what in fixed.explanation or []))
                if self.repaired == 1:
                    self.example = (" ".join(raw.split())[:60], " ".join(fixed.text.split())[:60])
                raw = fixed.text
        return " ".join(raw.translate(_INVISIBLE).split())

    def repair_notes(self) -> list[str]:
        (before, after), steps = self.example, ", ".join(self.steps)
        note = f"{self.name}: ftfy repaired {self.repaired} block(s) ({steps}), e.g. {before!r} -> {after!r}."
        return [note] if self.repaired else []

    def _dropped(self, tag: Tag) -> bool:
        name, role = tag.name, _attr(tag, "role")
        page_chrome = (name in _PAGE_CHROME or role == "complementary") and not self.sectioning
        if name in _DROP or role in _CHROME_ROLES or page_chrome:
            return True
        return self.strict and (name == "form" or _is_hidden(tag))

    def _owner(self) -> _Frame | None:
        return next((frame for frame in reversed(self.frames) if frame.kind in _OWNERS), None)

    def _inline(self) -> bool:
        owner = self._owner()
        return owner is not None and owner.kind in _INLINE_OWNERS

    def _break(self) -> None:
        """A block boundary: a new paragraph outside text owners, a space inside one (a ``<p>`` in an ``<li>``)."""
        if self._owner() is None:
            self._flush()
        else:
            self.buf.append(" ")

    def _push(self, frame: _Frame) -> None:
        self.frames.append(frame)
        if frame.tag is not None:
            self.open[id(frame.tag)] = frame

    def _flush(self) -> None:
        """Emit the gathered text as a block of the innermost owner (a cell keeps it until it closes)."""
        self.flushes += 1
        text, owner = self.clean("".join(self.buf)) if self.buf else "", self._owner()
        self.buf.clear()
        if not text:
            return
        if owner is None or owner.kind == "caption":
            self.blocks.append(("p", text))
        elif owner.kind == "li":
            self.blocks.append((f"-{self.list_group}", "  " * owner.level + "- " + text))
        elif owner.kind == "heading":
            self.blocks.append((f"#{owner.level}", "#" * owner.level + " " + text))
        else:
            owner.parts.append(text)

    def _close_top(self) -> _Frame:
        frame = self.frames[-1]
        if frame.kind in _OWNERS:
            self._flush()
        self.frames.pop()
        self.open.pop(id(frame.tag), None)
        parent = self.frames[-1] if self.frames else None
        if frame.kind == "cell" and frame.tag is not None and parent is not None and parent.kind == "row":
            text = " ".join(frame.parts).replace("|", "\\|")
            parent.cells.append((text, _span(frame.tag, "colspan", 1000), _span(frame.tag, "rowspan", 65534)))
        elif frame.kind == "row" and parent is not None and parent.kind == "table":
            parent.rows.append(frame.cells)
        elif frame.kind == "table":
            self._emit_table(frame.rows)
        return frame

    def _end_sup(self, flushes: int, mark: int) -> None:
        """Exponents stay exponents, reference numbers become ``[n]``: flat, "10<sup>9</sup>/L" reads "109/L"."""
        if flushes != self.flushes or len(self.buf) - mark > 4 or sum(map(len, self.buf[mark:])) > 24:
            return  # a block boundary fell inside, or too long to be a number (checked first: no quadratic rescans)
        sup = " ".join("".join(self.buf[mark:]).split())
        before = "".join(piece[-8:] for piece in self.buf[max(0, mark - 8) : mark]).rstrip()
        if _EXPONENT.fullmatch(sup) and (before[-1:].isdigit() or (sup in ("2", "3") and _UNIT_END.search(before))):
            self.buf[mark:] = [sup.translate(_SUPERSCRIPTS)]
        elif _CITATION.fullmatch(sup):
            self.buf[mark:] = [f"[{sup}]"]

    def _start_table_part(self, tag: Tag) -> None:
        """Tables, rows and cells, closing the cells and rows whose end tags the page omitted."""
        name, owner = tag.name, self._owner()
        if name == "table" and (id(tag) in self.survey.layout_tables or self._inline()):
            self._break()
            return
        if owner is not None and owner.kind == "cell" and name not in ("caption", "table"):
            while self._close_top() is not owner:  # <td>a<td>b: the first cell ends where the next begins
                pass
        elif self._inline():
            self.buf.append(" ")
            return
        top = self.frames[-1].kind if self.frames else None
        if top == "row" and name in ("tr", "thead", "tbody", "tfoot"):
            self._close_top()
            top = self.frames[-1].kind if self.frames else None
        if name != "table" and top not in ("table", "row"):
            self._break()  # a layout table's parts, or stray table tags
        elif name in ("table", "tr", "td", "th", "caption"):
            self._flush()
            if top == "table" and name in ("td", "th"):
                self._push(_Frame("row", None))
            self._push(_Frame({"tr": "row", "table": "table", "caption": "caption"}.get(name, "cell"), tag))

    def _emit_table(self, rows: list[list[_Cell]]) -> None:
        """``| a | b |`` rows: the first row as header, a ``| --- |`` separator, then the rest, all one width."""
        grid = [line for line in self._grid(rows) if any(line)]
        if not grid:
            return
        width = max(max((i + 1 for i, cell in enumerate(line) if cell), default=0) for line in grid)
        lines = []
        for line in grid:
            self._pad(width - len(line))
            lines.append("| " + " | ".join(line[:width] + [""] * (width - len(line))) + " |")
        lines.insert(1, "| " + " | ".join(["---"] * width) + " |")
        self.blocks.append(("table", "\n".join(lines)))

    def _grid(self, rows: list[list[_Cell]]) -> Iterator[list[str]]:
        """Empty cells after a colspan and below a rowspan keep every value under its column's header."""
        below: dict[int, int] = {}  # column -> rows that a rowspan from above still covers
        for cells in rows:
            line: list[str] = []
            for text, colspan, rowspan in [*cells, ("", 0, 0)]:  # the sentinel fills covered columns to the end
                until = 0 if colspan else max(below, default=-1) + 1
                while len(line) in below or len(line) < until:
                    if left := below.pop(len(line), 1) - 1:
                        below[len(line)] = left
                    self._pad(1)
                    line.append("")
                if rowspan > 1:
                    below.update(dict.fromkeys(range(len(line), len(line) + colspan), rowspan - 1))
                self._pad(colspan - 1)
                line += [text] + [""] * (colspan - 1) if colspan else []
            yield line

    def _pad(self, cells: int) -> None:
        self.padding += max(cells, 0)
        if self.padding > MAX_PADDING_CELLS:
            raise CorpusError(f"{self.name}: its tables would need over {MAX_PADDING_CELLS:,} empty cells to line up.")


def _render_content(soup: BeautifulSoup, survey: _Survey, name: str, repairs: list[str]) -> _Renderer:
    """``<main>`` (else the ``<article>``s), else the page, else it with hidden parts and forms, each if the one
    before has no text: ``<main>`` can be a placeholder, ASP.NET wraps all in a form, a pop-up hides the rest."""
    roots: list[Tag] = [survey.main] if survey.main is not None else list(survey.articles)
    for chosen, strict in ([(roots, True)] if roots else []) + [([soup], True), ([soup], False)]:
        renderer = _Renderer(survey, name, strict)
        for root in chosen:
            _walk(root, renderer)
            renderer.finish()
        if renderer.blocks:
            if not strict:
                repairs.append(f"{name}: all its text is inside a form or hidden; that text was read.")
            return renderer
    raise CorpusError(f"{name}: holds no readable text (only scripts/markup); save it once loaded, or as text.")


def _join(blocks: list[_Block]) -> str:
    """One blank line between blocks, none between the bullets of one list; a final newline."""
    parts = [blocks[0][1]]
    for (kind, text), (previous, _) in zip(blocks[1:], blocks, strict=False):
        parts += ["\n" if kind.startswith("-") and kind == previous else "\n\n", text]
    return "".join(parts) + "\n"
