"""The plan as a PDF, made on the server with reportlab, so that it exists on paper when the systems are down.

Only reportlab's standard fonts (Helvetica): they need no font file on the machine and cover Latin-1 (German
included) plus the typographic marks of Windows-1252 (“ ” – … €). Every text goes through `_markup`, because
Paragraph reads a small XML markup: a "<" or "&" typed into the plan must print as itself.
"""

import re
from io import BytesIO
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    ListFlowable,
    ListItem,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bcp_project.templatetags.times import when_text

from .selectors import Edition
from .snapshots import SectionView

MARGIN = 20 * mm
# Marks the standard fonts have no glyph for, written the way a typewriter would.
_PLAIN = str.maketrans({"→": "->", "←": "<-", "⇒": "=>", "✓": "x", "✔": "x", "✗": "-", "−": "-", "\u00ad": ""})


def _plain(text) -> str:
    return str(text).translate(_PLAIN)


def _markup(text) -> str:
    """Text for a Paragraph: escaped, line breaks kept."""
    return escape(_plain(text)).replace("\r\n", "\n").replace("\n", "<br/>")


def _styles() -> dict[str, ParagraphStyle]:
    sheet = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sheet["BodyText"], fontName="Helvetica", fontSize=10, leading=13)
    return {
        "title": ParagraphStyle("title", parent=sheet["Title"], fontName="Helvetica-Bold", fontSize=24, leading=30,
                                spaceAfter=6 * mm),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=13, leading=18, spaceAfter=2 * mm),
        "notice": ParagraphStyle("notice", parent=body, fontName="Helvetica-Bold",
                                 textColor=colors.HexColor("#8a1c1c"), spaceBefore=4 * mm),
        "section": ParagraphStyle("section", parent=sheet["Heading1"], fontName="Helvetica-Bold", fontSize=18,
                                  leading=22, spaceAfter=2 * mm),
        "intro": ParagraphStyle("intro", parent=body, fontName="Helvetica-Oblique",
                                textColor=colors.HexColor("#444444"), spaceAfter=4 * mm),
        "item": ParagraphStyle("item", parent=sheet["Heading2"], fontName="Helvetica-Bold", fontSize=13, leading=16,
                               spaceBefore=4 * mm, spaceAfter=2 * mm),
        "label": ParagraphStyle("label", parent=body, fontName="Helvetica-Bold"),
        "body": body,
        "muted": ParagraphStyle("muted", parent=body, textColor=colors.HexColor("#555555")),
        "contents": ParagraphStyle("contents", parent=body, fontSize=11, leading=16),
    }


def _numbered_canvas(header_left: str, header_right: str, footer_left: str):
    """A canvas that writes the header and footer once it knows how many pages there are ("Page 2 of 9")."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self._decorate(total)
                super().showPage()
            super().save()

        def _decorate(self, total: int):
            width, height = self._pagesize
            self.saveState()
            self.setStrokeColor(colors.HexColor("#999999"))
            self.setLineWidth(0.5)
            self.setFont("Helvetica-Bold", 8.5)
            self.drawString(MARGIN, height - 12 * mm, _plain(header_left))
            self.setFont("Helvetica", 8.5)
            self.drawRightString(width - MARGIN, height - 12 * mm, _plain(header_right))
            self.line(MARGIN, height - 14 * mm, width - MARGIN, height - 14 * mm)
            self.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
            self.drawString(MARGIN, 10 * mm, _plain(footer_left))
            self.drawRightString(width - MARGIN, 10 * mm,
                                 _plain(_("Page %(page)s of %(total)s") % {"page": self._pageNumber, "total": total}))
            self.restoreState()

    return NumberedCanvas


# A long text is laid out as several table rows of about this many characters: a table row cannot be taller than
# a page, and rows split from page to page cheaply (one cell of 100,000 characters split in place is re-measured
# whole on every page).
PIECE = 1500
_SENTENCE_END = re.compile(r"[.!?]\s")


def _cut(line: str) -> int:
    """Where to end a piece of an over-long line: after the last sentence before PIECE, else at a space."""
    ends = [match.end() for match in _SENTENCE_END.finditer(line, 0, PIECE)]
    if ends and ends[-1] > PIECE // 2:
        return ends[-1]
    space = line.rfind(" ", 0, PIECE)
    return space + 1 if space > 0 else PIECE


def _pieces(text: str) -> list[str]:
    """The text in pieces of at most PIECE characters, cut at line breaks where it can, and all of it."""
    pieces, lines, size = [], [], 0
    for line in text.replace("\r\n", "\n").split("\n"):
        while len(line) > PIECE:
            if lines:
                pieces.append("\n".join(lines))
                lines, size = [], 0
            cut = _cut(line)
            pieces.append(line[:cut].rstrip())
            line = line[cut:]
        if lines and size + len(line) > PIECE:
            pieces.append("\n".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line) + 1
    if lines:
        pieces.append("\n".join(lines))
    return pieces


def _cells(field, styles) -> list:
    """A field's value as one flowable per table row: a long text in pieces, steps one by one."""
    if field.is_steps:
        if not field.steps:
            return [Paragraph(_markup(_("No steps yet")), styles["muted"])]
        cells = []
        for step in field.steps:
            text = _markup(step.text)
            if step.team:
                text += " <i>(" + _markup(step.team) + ")</i>"
            cells.append(ListFlowable([ListItem(Paragraph(text, styles["body"]), value=step.number)], bulletType="1",
                                      bulletFormat="%s.", bulletFontName="Helvetica", bulletFontSize=10,
                                      leftIndent=14))
        return cells
    if not field.text:
        return [Paragraph("–", styles["muted"])]
    return [Paragraph(_markup(piece), styles["body"]) for piece in _pieces(str(field.text))]


def _section(section: SectionView, styles, width: float) -> list:
    story = [PageBreak(), Paragraph(_markup(section.title), styles["section"]),
             Paragraph(_markup(section.intro), styles["intro"])]
    if not section.items:
        story.append(Paragraph(_markup(_("Nothing in this section yet.")), styles["muted"]))
        return story
    label_width = 48 * mm
    for item in section.items:
        rows, commands = [], []
        for field in item.fields:
            first = len(rows)
            cells = _cells(field, styles)
            rows += [[Paragraph(_markup(field.label), styles["label"]) if index == 0 else "", cell]
                     for index, cell in enumerate(cells)]
            if first:  # a line between two fields; the pieces of one field run on without a gap
                commands.append(("LINEABOVE", (0, first), (-1, first), 0.25, colors.HexColor("#cccccc")))
            if len(cells) > 1:
                commands += [("BOTTOMPADDING", (0, first), (-1, len(rows) - 2), 0),
                             ("TOPPADDING", (0, first + 1), (-1, len(rows) - 1), 0)]
        # splitInRow: a row split at the foot of a page goes on at the top of the next.
        table = Table(rows, colWidths=[label_width, width - label_width], splitInRow=1)
        table.setStyle(TableStyle([
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ("LEFTPADDING", (0, 0), (0, -1), 0),
            *commands,
        ]))
        heading = Paragraph(_markup(item.name), styles["item"])
        # The heading stays with the first rows of its item (never alone at the foot of a page).
        story.append(KeepTogether([heading, table]) if len(rows) <= 8 else heading)
        if len(rows) > 8:
            story.append(table)
    return story


def plan_pdf(*, edition: Edition, printed_at, url: str = "") -> bytes:
    """The whole plan of `edition`: a title page with what the plan is and what it holds, then each section on a
    new page; every page has the tenant, the version and "Page n of m"."""
    styles = _styles()
    buffer = BytesIO()
    title = _("Continuity plan")
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN + 2 * mm,
        bottomMargin=MARGIN, title=_plain(f"{title}: {edition.tenant.name}"), author=_plain(edition.tenant.name),
        subject=_plain(edition.line), creator="bcp")
    width = A4[0] - 2 * MARGIN
    printed = _("Printed %(when)s") % {"when": when_text(printed_at)}
    story = [Spacer(1, 30 * mm), Paragraph(_markup(title), styles["title"]),
             Paragraph(_markup(edition.tenant.name), styles["subtitle"]),
             Paragraph(_markup(edition.line), styles["subtitle"]),
             Paragraph(_markup(printed), styles["body"])]
    if not edition.is_current:
        story.append(Paragraph(_markup(_("This is an older version, not the current plan.")), styles["notice"]))
    if url:
        story.append(Paragraph(_markup(_("The current plan online: %(url)s") % {"url": url}), styles["muted"]))
    sections = edition.sections
    story.append(Spacer(1, 10 * mm))
    story.append(Paragraph(_markup(_("Contents")), styles["item"]))
    for number, section in enumerate(sections, start=1):
        story.append(Paragraph(_markup(f"{number}. {section.title} ({len(section.items)})"), styles["contents"]))
    for section in sections:
        story += _section(section, styles, width)
    header_left = f"{edition.tenant.name} · {title}"
    document.build(story, canvasmaker=_numbered_canvas(header_left, edition.line, printed))
    return buffer.getvalue()
