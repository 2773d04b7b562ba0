"""Write a BPMN diagram with diagram interchange from a short description (a developer's tool).

The shared steps (bpmn/shared/) and the worker diagram were written with it: nodes are placed on a
grid of lanes and columns, flows routed at right angles, so every shape and edge has diagram
interchange and the file opens in bpmn.io. Edit the description in ``scripts/diagrams.py`` and run
``python scripts/diagrams.py`` to write them again; once an analyst edits a diagram in bpmn.io,
that file is the source and this tool is no longer needed for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

SIZES = {
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "boundaryEvent": (36, 36),
    "exclusiveGateway": (50, 50),
}
TASK_SIZE = (100, 80)
LANE_HEIGHT = 300
COLUMN = 150
LEFT = 180  # where the lanes start (the pool's label band is left of it)
TOP = 80


@dataclass
class Node:
    id: str
    kind: str
    name: str
    lane: str
    col: float
    row: float = 0.0  # vertical offset inside the lane, in units of 60 px from its middle
    properties: dict[str, str] = field(default_factory=dict)
    extensions: str = ""  # further spiffworkflow extension elements (XML)
    body: str = ""  # inner XML after incoming/outgoing (script, timer definition...)
    attrs: dict[str, str] = field(default_factory=dict)
    attached_to: str | None = None
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)


@dataclass
class Flow:
    id: str
    source: str
    target: str
    name: str | None = None
    condition: str | None = None


class Diagram:
    def __init__(self, process_id: str, name: str, documentation: str, lanes: list[tuple[str, str]]):
        self.process_id, self.name, self.documentation, self.lanes = process_id, name, documentation, lanes
        self.nodes: dict[str, Node] = {}
        self.flows: list[Flow] = []
        self.messages: list[str] = []
        self.defaults: dict[str, str] = {}

    def node(self, id: str, kind: str, name: str, lane: str, col: float, row: float = 0.0, **kw: object) -> Node:
        node = Node(id, kind, name, lane, col, row, **kw)  # type: ignore[arg-type]
        self.nodes[id] = node
        return node

    def boundary(self, id: str, name: str, attached_to: str, duration: str, interrupting: bool, **kw: object) -> Node:
        host = self.nodes[attached_to]
        timer = (
            f'<bpmn:timerEventDefinition id="{id}_timer">\n'
            f'        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"{duration}"</bpmn:timeDuration>\n'
            "      </bpmn:timerEventDefinition>"
        )
        attrs = {"cancelActivity": "true" if interrupting else "false", "attachedToRef": attached_to}
        node = Node(id, "boundaryEvent", name, host.lane, host.col, host.row, body=timer, attrs=attrs, **kw)  # type: ignore[arg-type]
        node.attached_to = attached_to
        self.nodes[id] = node
        return node

    def flow(
        self, source: str, target: str, name: str | None = None, condition: str | None = None, default: bool = False
    ) -> None:
        flow_id = f"flow_{source}_to_{target}"
        self.flows.append(Flow(flow_id, source, target, name, condition))
        self.nodes[source].outgoing.append(flow_id)
        self.nodes[target].incoming.append(flow_id)
        if default:
            self.defaults[source] = flow_id

    # -- geometry ---------------------------------------------------------------

    def _lane_top(self, lane: str) -> int:
        index = [lane_id for lane_id, _ in self.lanes].index(lane)
        return TOP + index * LANE_HEIGHT

    def bounds(self, node: Node) -> tuple[int, int, int, int]:
        if node.attached_to:
            hx, hy, hw, hh = self.bounds(self.nodes[node.attached_to])
            return hx + hw - 30, hy + hh - 18, 36, 36
        width, height = SIZES.get(node.kind, TASK_SIZE)
        cx = LEFT + 80 + int(node.col * COLUMN)
        cy = self._lane_top(node.lane) + LANE_HEIGHT // 2 + int(node.row * 65)
        return cx - width // 2, cy - height // 2, width, height

    def waypoints(self, flow: Flow) -> list[tuple[int, int]]:
        sx, sy, sw, sh = self.bounds(self.nodes[flow.source])
        tx, ty, tw, th = self.bounds(self.nodes[flow.target])
        scx, scy, tcx, tcy = sx + sw // 2, sy + sh // 2, tx + tw // 2, ty + th // 2
        if self.nodes[flow.source].attached_to:  # leave a boundary event downwards
            if tx <= scx <= tx + tw:  # the target is below it: straight down into its top
                return [(scx, sy + sh), (scx, ty)]
            end = (tx, tcy) if tcx > scx else (tx + tw, tcy)
            return [(scx, sy + sh), (scx, tcy), end]
        if tcx > scx + 5:  # forwards
            if scy == tcy:
                return [(sx + sw, scy), (tx, tcy)]
            if self.nodes[flow.source].kind == "exclusiveGateway":  # leave a gateway from its top or bottom
                return [(scx, sy if tcy < scy else sy + sh), (scx, tcy), (tx, tcy)]
            mid = (sx + sw + tx) // 2
            return [(sx + sw, scy), (mid, scy), (mid, tcy), (tx, tcy)]
        if abs(tcx - scx) <= 5:  # straight up or down
            return [(scx, sy + sh), (tcx, ty)] if tcy > scy else [(scx, sy), (tcx, ty + th)]
        if tcy < scy - 60 and self.nodes[flow.source].kind == "exclusiveGateway":
            # backwards from a gateway into a lane above: up to the bottom of the target's lane, along it,
            # then up into the target (clear of the shapes beside the gateway in its own lane)
            below = self._lane_top(self.nodes[flow.target].lane) + LANE_HEIGHT - 20
            return [(scx, sy), (scx, below), (tcx, below), (tcx, ty + th)]
        if tcy < scy - 60:  # backwards into a lane above: along this lane, then up into the target
            return [(sx, scy), (tcx, scy), (tcx, ty + th)]
        # backwards: over the top of both shapes
        over = min(sy, ty) - 30
        return [(scx, sy), (scx, over), (tcx, over), (tcx, ty)]

    # -- XML --------------------------------------------------------------------

    def _extension_xml(self, node: Node) -> str:
        parts = []
        if node.extensions:
            parts.append(node.extensions)
        if node.properties:
            props = "".join(
                f"\n          <spiffworkflow:property name={quoteattr(k)} value={quoteattr(v)} />"
                for k, v in node.properties.items()
            )
            parts.append(f"<spiffworkflow:properties>{props}\n        </spiffworkflow:properties>")
        if not parts:
            return ""
        inner = "\n        ".join(parts)
        return f"\n      <bpmn:extensionElements>\n        {inner}\n      </bpmn:extensionElements>"

    def _node_xml(self, node: Node) -> str:
        attrs = {"id": node.id, "name": node.name, **node.attrs}
        if node.id in self.defaults:
            attrs["default"] = self.defaults[node.id]
        attr_text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
        inner = self._extension_xml(node)
        inner += "".join(f"\n      <bpmn:incoming>{f}</bpmn:incoming>" for f in node.incoming)
        inner += "".join(f"\n      <bpmn:outgoing>{f}</bpmn:outgoing>" for f in node.outgoing)
        if node.body:
            inner += "\n      " + node.body  # as written: a script's lines must not be indented
        return f"    <bpmn:{node.kind} {attr_text}>{inner}\n    </bpmn:{node.kind}>"

    def _flow_xml(self, flow: Flow) -> str:
        attrs = {"id": flow.id}
        if flow.name:
            attrs["name"] = flow.name
        attrs.update(sourceRef=flow.source, targetRef=flow.target)
        attr_text = " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items())
        if flow.condition is None:
            return f"    <bpmn:sequenceFlow {attr_text} />"
        return (
            f"    <bpmn:sequenceFlow {attr_text}>\n"
            f'      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(flow.condition)}'
            "</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>"
        )

    def xml(self) -> str:
        pid = self.process_id
        width = LEFT - 150 + 160 + int(max(n.col for n in self.nodes.values()) * COLUMN) + 120
        height = LANE_HEIGHT * len(self.lanes)
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
            'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" '
            f'id="definitions_{pid}" targetNamespace="https://kitas.example/bpmn" '
            'exporter="KITAS Online generator" exporterVersion="1.0">',
        ]
        lines += [f'  <bpmn:message id="{m}" name="{m}" />' for m in self.messages]
        lines += [
            f'  <bpmn:collaboration id="collaboration_{pid}">',
            f'    <bpmn:participant id="participant_{pid}" name={quoteattr(self.name)} processRef="{pid}" />',
            "  </bpmn:collaboration>",
            f'  <bpmn:process id="{pid}" name={quoteattr(self.name)} isExecutable="true">',
            f"    <bpmn:documentation>{escape(self.documentation)}</bpmn:documentation>",
            f'    <bpmn:laneSet id="laneset_{pid}">',
        ]
        for lane_id, lane_name in self.lanes:
            lines.append(f'      <bpmn:lane id="{lane_id}" name={quoteattr(lane_name)}>')
            lines += [
                f"        <bpmn:flowNodeRef>{n.id}</bpmn:flowNodeRef>" for n in self.nodes.values() if n.lane == lane_id
            ]
            lines.append("      </bpmn:lane>")
        lines.append("    </bpmn:laneSet>")
        lines += [self._node_xml(n) for n in self.nodes.values()]
        lines += [self._flow_xml(f) for f in self.flows]
        lines.append("  </bpmn:process>")
        lines += [
            f'  <bpmndi:BPMNDiagram id="diagram_{pid}">',
            f'    <bpmndi:BPMNPlane id="plane_{pid}" bpmnElement="collaboration_{pid}">',
            f'      <bpmndi:BPMNShape id="participant_{pid}_di" bpmnElement="participant_{pid}" isHorizontal="true">',
            f'        <dc:Bounds x="150" y="{TOP}" width="{width}" height="{height}" />',
            "      </bpmndi:BPMNShape>",
        ]
        for lane_id, _ in self.lanes:
            top = self._lane_top(lane_id)
            lines += [
                f'      <bpmndi:BPMNShape id="{lane_id}_di" bpmnElement="{lane_id}" isHorizontal="true">',
                f'        <dc:Bounds x="{LEFT}" y="{top}" width="{width - 30}" height="{LANE_HEIGHT}" />',
                "      </bpmndi:BPMNShape>",
            ]
        for node in self.nodes.values():
            x, y, w, h = self.bounds(node)
            marker = ' isMarkerVisible="true"' if node.kind == "exclusiveGateway" else ""
            lines.append(f'      <bpmndi:BPMNShape id="{node.id}_di" bpmnElement="{node.id}"{marker}>')
            lines.append(f'        <dc:Bounds x="{x}" y="{y}" width="{w}" height="{h}" />')
            if node.kind in SIZES:  # events and gateways carry their label below
                lines += [
                    "        <bpmndi:BPMNLabel>",
                    f'          <dc:Bounds x="{x + w // 2 - 50}" y="{y + h + 5}" width="100" height="27" />',
                    "        </bpmndi:BPMNLabel>",
                ]
            lines.append("      </bpmndi:BPMNShape>")
        for flow in self.flows:
            lines.append(f'      <bpmndi:BPMNEdge id="{flow.id}_di" bpmnElement="{flow.id}">')
            lines += [f'        <di:waypoint x="{x}" y="{y}" />' for x, y in self.waypoints(flow)]
            lines.append("      </bpmndi:BPMNEdge>")
        lines += ["    </bpmndi:BPMNPlane>", "  </bpmndi:BPMNDiagram>", "</bpmn:definitions>", ""]
        return "\n".join(lines)


def status(value: str) -> dict[str, str]:
    return {"status": value}


def form(name: str, status_value: str) -> dict[str, str]:
    return {
        "formJsonSchemaFilename": f"{name}.schema.json",
        "formUiSchemaFilename": f"{name}.uischema.json",
        "status": status_value,
    }


def script(text: str) -> str:
    return f"<bpmn:script>{escape(text)}</bpmn:script>"
