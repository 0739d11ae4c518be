"""The network drawn as plain SVG text (`blocklab draw`, the report, the dashboard).

Two steps, so a richer network only touches the first: `graph(scenario)` turns the scenario
model into nodes and links (clients and the ISP resolver on the censored side, the censor with
its rules, the public resolver and the servers with their domains on the internet side), and
`svg(nodes, links)` lays out any nodes in columns and draws them. Routers, ISPs or several
censors become more nodes (and columns) in `graph`; `svg` does not change.

No dependencies: the SVG is built as text, every name escaped. Each node is a `<g>` with
`id="node-NAME"` and `class="node KIND"` (the dashboard colours the censor's rules by hits).
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from html import escape

KIND_STYLE = {   # kind -> (fill, stroke)
    "client": ("#e8f0fe", "#1a73e8"),
    "resolver": ("#f1f3f4", "#5f6368"),
    "censor": ("#fce8e6", "#d93025"),
    "server": ("#e6f4ea", "#188038"),
    "router": ("#fef7e0", "#b06000"),
}
COLUMN_GAP = 70     # px between columns
MAX_ROWS = 6        # boxes per column before it wraps into another
BOX_WIDTH = 200
LINE = 15           # px per text line
GAP = 18            # px between boxes in a column
MAX_LINES = 8       # domains listed per box before "+N more"
CENSOR_LINES = 18   # the censor's box lists more: its rules, two lines each at most
CENSOR_CHARS = 40


@dataclass
class Node:
    id: str
    title: str
    kind: str                      # client, resolver, router, censor, server (KIND_STYLE)
    column: int                    # 0 = leftmost
    lines: list[str] = field(default_factory=list)


@dataclass
class Link:
    a: str
    b: str
    label: str = ""


def graph(scenario) -> tuple[list[Node], list[Link]]:
    """The scenario's hosts, censors and rules as nodes and links (the one place that knows
    the network's shape): the star network, or a routed one (`network:`) with its ISPs'
    routers, the border router and each censor on its link."""
    if scenario.network is not None:
        return _routed_graph(scenario)
    nodes: list[Node] = []
    links: list[Link] = []
    nodes.append(_censor_node("censor", f"censor ({scenario.censor.mode})", scenario.censor, 1))
    for host in scenario.hosts():
        side_col = 0 if host.side == "client" else 2
        nodes.append(_host_node(scenario, host, side_col))
        links.append(Link(host.name, "censor"))
    return nodes, links


def _routed_graph(scenario) -> tuple[list[Node], list[Link]]:
    """Columns: clients | access censors | ISP routers | uplink censors | border router |
    border censor | servers. A link without a censor on it joins its two ends directly."""
    from lab.scenario.topology import BORDER
    topo = scenario.network
    nodes: list[Node] = []
    links: list[Link] = []
    censors = {c.at: c for c in topo.censors}

    def censor_between(place: str, column: int, a: str, b: str) -> None:
        censor = censors.get(place)
        if censor is None:
            links.append(Link(a, b))
            return
        node = f"censor-{censor.name}"
        title = f"{censor.name} at {place} ({censor.mode}, ttl {censor.ttl})"
        nodes.append(_censor_node(node, title, censor, column))
        links.extend([Link(a, node), Link(node, b)])

    nodes.append(Node("BORDER", "border router", "router", 4, ["198.18.0.1 · 198.19.0.1"]))
    for isp in topo.isps:
        chain = f"{isp.hops} routers" if isp.hops > 1 else "router"
        nodes.append(Node(isp.router, f"{isp.name} {chain}", "router", 2,
                          [f"{isp.prefix} ({isp.kind})", f"gateway {isp.router_ip}"]))
        members = [h for h in (scenario.host(n) for n in sorted(isp.members)) if h is not None]
        nodes += [_host_node(scenario, h, 0) for h in members]
        access = f"{isp.name}.access"
        if access in censors:                   # the LAN's members all cross its censor
            lan = f"lan-{isp.name}"
            nodes.append(Node(lan, f"{isp.name} LAN", "router", 0, [isp.prefix]))
            links += [Link(h.name, lan) for h in members]
            censor_between(access, 1, lan, isp.router)
        else:
            links += [Link(h.name, isp.router) for h in members]
        censor_between(f"{isp.name}.uplink", 3, isp.router, "BORDER")
    last = "BORDER"
    if BORDER in censors:
        nodes.append(Node("internet", "servers' LAN", "router", 6, ["198.19.0.0/16"]))
        censor_between(BORDER, 5, "BORDER", "internet")
        last = "internet"
    for host in scenario.hosts():
        if topo.isp_of(host.name) is not None:
            continue                            # drawn with its ISP
        if host.side == "client":               # the lab's isp resolver, on the core
            nodes.append(_host_node(scenario, host, 4))
            links.append(Link(host.name, "BORDER"))
        else:                                   # public-dns and the servers
            nodes.append(_host_node(scenario, host, 7 if last == "internet" else 6))
            links.append(Link(last, host.name))
    return nodes, links


def _censor_node(node_id: str, title: str, censor, column: int) -> Node:
    from lab.scenario.ruletext import action_text, match_text
    rules = []
    for r in censor.rules:
        text = (f"{'' if r.enabled else '[off] '}{r.id}: {action_text(r.action)} "
                f"on {match_text(r.match) or 'everything'}")
        rules += textwrap.wrap(text, CENSOR_CHARS, subsequent_indent="\u00a0" * 3,
                               max_lines=2, placeholder=" …")
    return Node(node_id, title, "censor", column, rules or ["no rules"])


def _host_node(scenario, host, column: int) -> Node:
    resolver = scenario.resolver_ip(host.name) if scenario.network is not None \
        else scenario.resolver_ip()
    if host.side == "client" and not any(host.name == r.name for r in scenario.resolvers()):
        return Node(host.name, host.name, "client", column, [host.ip])
    if any(host.name == r.name for r in scenario.resolvers()):
        return Node(host.name, host.name, "resolver", column,
                    [host.ip, "resolver" + (" (clients use it)" if host.ip == resolver else "")])
    lines = [host.ip, *host.domains]
    serve = getattr(host, "serve", ())
    if serve:
        lines.append("serves " + ", ".join(serve))
    return Node(host.name, host.name, "server", column, lines)


def _clip(lines: list[str], width_chars: int, most: int = MAX_LINES) -> list[str]:
    out = [line if len(line) <= width_chars else line[:width_chars - 1] + "…"
           for line in lines[:most]]
    if len(lines) > most:
        out.append(f"+{len(lines) - most} more")
    return out


def _shown(n: Node, w: int) -> list[str]:
    return _clip(n.lines, w // 7, CENSOR_LINES if n.kind == "censor" else MAX_LINES)


def _layout(nodes: list[Node], top: float) -> tuple[dict, float, float]:
    """Boxes (id -> x, y, w, h): columns left to right, a column taller than MAX_ROWS boxes
    wrapped into several; each column centred vertically. Returns boxes, width, height."""
    groups: list[list[Node]] = []
    for col in sorted({n.column for n in nodes}):
        members = [n for n in nodes if n.column == col]
        groups += [members[i:i + MAX_ROWS] for i in range(0, len(members), MAX_ROWS)]
    boxes: dict[str, tuple[float, float, float, float]] = {}
    bottoms, x = [], 20.0
    for group in groups:
        y, widest = top, 0
        for n in group:
            w = BOX_WIDTH + (100 if n.kind == "censor" else 0)
            h = 26 + LINE * len(_shown(n, w))
            boxes[n.id] = (x, y, w, h)
            y += h + GAP
            widest = max(widest, w)
        bottoms.append((group, y))
        x += widest + COLUMN_GAP
    tallest = max((b for _, b in bottoms), default=top)
    for group, bottom in bottoms:
        for n in group:
            bx, by, w, h = boxes[n.id]
            boxes[n.id] = (bx, by + (tallest - bottom) / 2, w, h)
    return boxes, x - COLUMN_GAP + 20, tallest + 10


def svg(nodes: list[Node], links: list[Link], title: str = "") -> str:
    """Nodes in columns, links as lines between box edges; a complete SVG document."""
    top = 40 if title else 12
    boxes, width, height = _layout(nodes, top)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
           f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
           'font-family="sans-serif" font-size="12">']
    out.append(f"<title>{escape(title or 'blocklab network')}</title>")
    out.append('<rect width="100%" height="100%" fill="white"/>')
    if title:
        chars = int(width // 8)
        shown = title if len(title) <= chars else title[:chars - 1] + "…"
        out.append(f'<text x="20" y="24" font-size="15" font-weight="bold">{escape(shown)}</text>')
    for link in links:
        if link.a not in boxes or link.b not in boxes:
            continue
        (x1, y1, w1, h1), (x2, y2, w2, h2) = boxes[link.a], boxes[link.b]
        ax, bx = (x1 + w1, x2) if x1 < x2 else (x1, x2 + w2)
        out.append(f'<line x1="{ax:.0f}" y1="{y1 + h1 / 2:.0f}" x2="{bx:.0f}" '
                   f'y2="{y2 + h2 / 2:.0f}" stroke="#9aa0a6" stroke-width="1.5"/>')
        if link.label:
            out.append(f'<text x="{(ax + bx) / 2:.0f}" y="{(y1 + y2 + h1) / 2:.0f}" '
                       f'fill="#5f6368">{escape(link.label)}</text>')
    for n in nodes:
        x, y, w, h = boxes[n.id]
        fill, stroke = KIND_STYLE.get(n.kind, ("#fff", "#000"))
        out.append(f'<g id="node-{escape(n.id, quote=True)}" class="node {escape(n.kind)}">')
        out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{w}" height="{h:.0f}" rx="6" '
                   f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>')
        out.append(f'<text x="{x + 8:.0f}" y="{y + 17:.0f}" font-weight="bold">'
                   f'{escape(n.title)}</text>')
        for i, line in enumerate(_shown(n, w)):
            out.append(f'<text x="{x + 8:.0f}" y="{y + 17 + LINE * (i + 1):.0f}" '
                       f'fill="#3c4043">{escape(line)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def draw(scenario) -> str:
    """The scenario's network as an SVG document."""
    nodes, links = graph(scenario)
    return svg(nodes, links, f"{scenario.name}: {scenario.title}")
