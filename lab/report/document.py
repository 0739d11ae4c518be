"""A small document model rendered twice: Markdown (report.md, PNGs beside it) and one
self-contained HTML page (report.html: CSS inline, PNGs as data: URIs, nothing fetched).

Blocks: ("h", level, text), ("p", text), ("list", [text]), ("table", head, rows),
("image", path, alt), ("pre", text), ("svg", path, alt) (inline in the HTML, a link to the
file in Markdown), ("links", [(href, text)]) (local files, relative to the report). Text is
plain; `code` spans in backticks are kept.
"""
from __future__ import annotations

import base64
import html
import re
from pathlib import Path

CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b;
       max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .6rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.ok { color: #1b5e20; font-weight: 600; } td.bad { color: #b71c1c; font-weight: 600; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .85rem; }
pre { background: #f6f6f6; padding: .6rem; overflow-x: auto; }
img, figure svg { max-width: 100%; height: auto; border: 1px solid #eee; }
figure { margin: .6rem 0; }
.muted { color: #666; }
"""


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(blocks: list[tuple]) -> str:
    out: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            out.append("#" * b[1] + " " + b[2])
        elif kind == "p":
            out.append(b[1])
        elif kind == "list":
            out.append("\n".join(f"- {item}" for item in b[1]))
        elif kind == "table":
            head, rows = b[1], b[2]
            out.append("\n".join(["| " + " | ".join(_md_cell(h) for h in head) + " |",
                                  "|" + "---|" * len(head)]
                                 + ["| " + " | ".join(_md_cell(c) for c in row) + " |"
                                    for row in rows]))
        elif kind in ("image", "svg"):
            out.append(f"![{b[2]}]({Path(b[1]).name})")
        elif kind == "links":
            out.append("\n".join(f"- [{text}]({href})" for href, text in b[1]))
        elif kind == "pre":
            out.append("```\n" + b[1].rstrip() + "\n```")
    return "\n\n".join(out) + "\n"


def _inline(text: str) -> str:
    """Escape, then `code` spans."""
    parts = re.split(r"(`[^`]+`)", str(text))
    return "".join(f"<code>{html.escape(p[1:-1])}</code>" if p.startswith("`") and
                   p.endswith("`") and len(p) > 1 else html.escape(p) for p in parts)


def _cell(text: str) -> str:
    text = str(text)
    cls = ""
    if text.endswith("✓"):
        cls = ' class="ok"'
    elif text.endswith("✗"):
        cls = ' class="bad"'
    return f"<td{cls}>{_inline(text)}</td>"


def html_page(title: str, blocks: list[tuple]) -> str:
    body: list[str] = []
    for b in blocks:
        kind = b[0]
        if kind == "h":
            body.append(f"<h{b[1]}>{_inline(b[2])}</h{b[1]}>")
        elif kind == "p":
            body.append(f"<p>{_inline(b[1])}</p>")
        elif kind == "list":
            body.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in b[1]) + "</ul>")
        elif kind == "table":
            head = "".join(f"<th>{_inline(h)}</th>" for h in b[1])
            rows = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in b[2])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif kind == "image":
            data = base64.b64encode(Path(b[1]).read_bytes()).decode()
            body.append(f'<p><img alt="{html.escape(b[2])}" '
                        f'src="data:image/png;base64,{data}"></p>')
        elif kind == "svg":
            body.append(f'<figure role="img" aria-label="{html.escape(b[2])}">'
                        f"{Path(b[1]).read_text(encoding='utf-8')}</figure>")
        elif kind == "links":
            body.append("<ul>" + "".join(f'<li><a href="{html.escape(href)}">{_inline(text)}'
                                         "</a></li>" for href, text in b[1]) + "</ul>")
        elif kind == "pre":
            body.append(f"<pre>{html.escape(b[1].rstrip())}</pre>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
