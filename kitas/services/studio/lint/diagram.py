"""A BPMN 2.0 document read for the lint rules: flow nodes, sequence flows, lanes, boundary events and
the spiffworkflow properties, read with lxml so that a file the engine refuses is still linted."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_B = f"{{{BPMN}}}"

TASKS = frozenset(
    {
        "task",
        "userTask",
        "manualTask",
        "scriptTask",
        "serviceTask",
        "sendTask",
        "receiveTask",
        "businessRuleTask",
        "callActivity",
        "subProcess",
        "transaction",
        "adHocSubProcess",
    }
)
GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
FLOW_NODES = TASKS | GATEWAYS | EVENTS
SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})


@dataclass
class Node:
    """One flow node: what kind it is, its name, where it is, and the flows in and out of it."""

    id: str
    kind: str
    name: str
    container: str  # the process or subprocess it is drawn in
    lane: str | None = None  # the lane's name (None outside every lane)
    incoming: list[str] = field(default_factory=list)
    outgoing: list[str] = field(default_factory=list)
    attached_to: str | None = None
    cancel_activity: bool = True
    triggered_by_event: bool = False  # an event subprocess
    event_definitions: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)
    called_element: str | None = None
    default_flow: str | None = None
    timers: tuple[tuple[str, str], ...] = ()  # (timeDuration | timeDate | timeCycle, text)
    xml: Any = None


@dataclass
class Flow:
    """One sequence flow."""

    id: str
    name: str
    source: str
    target: str
    condition: str | None
    container: str


@dataclass
class Diagram:
    """The flow nodes and sequence flows of the processes linted (one process and the subprocesses in it)."""

    process_id: str
    nodes: dict[str, Node]
    flows: dict[str, Flow]
    lanes: dict[str, str]  # lane id -> lane name
    lane_nodes: dict[str, str]  # lane id -> lane name, for lanes that hold at least one node

    def outgoing(self, node: Node) -> list[Flow]:
        return [self.flows[f] for f in node.outgoing if f in self.flows]

    def incoming(self, node: Node) -> list[Flow]:
        return [self.flows[f] for f in node.incoming if f in self.flows]

    def boundary_of(self, node_id: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.attached_to == node_id]

    def of_kind(self, *kinds: str) -> Iterator[Node]:
        return (n for n in self.nodes.values() if n.kind in kinds)


def local(tag: Any) -> str:
    """The local name of a BPMN element's tag ('' for comments and foreign elements)."""
    return tag[len(_B) :] if isinstance(tag, str) and tag.startswith(_B) else ""


def read_diagram(root: Any, process: Any) -> Diagram:
    """Read one ``bpmn:process`` element (with everything nested in it) into a Diagram."""
    process_id = str(process.get("id") or "")
    nodes: dict[str, Node] = {}
    flows: dict[str, Flow] = {}
    lanes: dict[str, str] = {}
    lane_of: dict[str, str] = {}
    lane_ids: dict[str, str] = {}
    for lane in process.iter(f"{_B}lane"):
        lane_id = str(lane.get("id") or "")
        lanes[lane_id] = str(lane.get("name") or "")
        # A nested lane set: the innermost lane holding the reference wins (read last).
        for ref in lane.findall(f"{_B}flowNodeRef"):
            if ref.text:
                lane_of[ref.text.strip()] = lanes[lane_id]
                lane_ids[ref.text.strip()] = lane_id
    _walk(process, process_id, nodes, flows)
    # The lane of a node inside a subprocess is the subprocess's lane.
    for node in nodes.values():
        node.lane = lane_of.get(node.id)
    for node in nodes.values():
        container = nodes.get(node.container)
        while node.lane is None and container is not None:
            node.lane = lane_of.get(container.id)
            container = nodes.get(container.container)
    used = {lane_ids[n] for n in nodes if n in lane_ids}
    return Diagram(process_id, nodes, flows, lanes, {lane_id: lanes[lane_id] for lane_id in used})


def _walk(container: Any, container_id: str, nodes: dict[str, Node], flows: dict[str, Flow]) -> None:
    for child in container:
        kind = local(child.tag)
        element_id = str(child.get("id") or "")
        if kind == "sequenceFlow":
            condition = child.find(f"{_B}conditionExpression")
            flows[element_id] = Flow(
                id=element_id,
                name=str(child.get("name") or ""),
                source=str(child.get("sourceRef") or ""),
                target=str(child.get("targetRef") or ""),
                condition=(condition.text or "") if condition is not None else None,
                container=container_id,
            )
        elif kind in FLOW_NODES:
            nodes[element_id] = _node(child, kind, element_id, container_id)
            if kind in SUBPROCESSES:
                _walk(child, element_id, nodes, flows)
    for flow in flows.values():  # incoming/outgoing from the flows themselves (modelers omit the refs)
        if flow.container != container_id:
            continue
        if flow.source in nodes and flow.id not in nodes[flow.source].outgoing:
            nodes[flow.source].outgoing.append(flow.id)
        if flow.target in nodes and flow.id not in nodes[flow.target].incoming:
            nodes[flow.target].incoming.append(flow.id)


def _node(element: Any, kind: str, element_id: str, container_id: str) -> Node:
    definitions = tuple(local(child.tag) for child in element if local(child.tag).endswith("EventDefinition")) + tuple(
        "eventDefinitionRef" for _ in element.findall(f"{_B}eventDefinitionRef")
    )
    timers: list[tuple[str, str]] = []
    for timer in element.findall(f"{_B}timerEventDefinition"):
        for child in timer:
            if local(child.tag) in ("timeDuration", "timeDate", "timeCycle"):
                timers.append((local(child.tag), child.text or ""))
    properties = {
        str(prop.get("name")): str(prop.get("value") or "")
        for prop in element.iter(f"{{{SPIFF}}}property")
        if prop.get("name") and _owner(prop) is element
    }
    return Node(
        id=element_id,
        kind=kind,
        name=" ".join(str(element.get("name") or "").split()),
        container=container_id,
        attached_to=element.get("attachedToRef"),
        cancel_activity=element.get("cancelActivity") != "false",
        triggered_by_event=element.get("triggeredByEvent") == "true",
        event_definitions=definitions,
        properties=properties,
        called_element=element.get("calledElement") if kind == "callActivity" else None,
        default_flow=element.get("default"),
        timers=tuple(timers),
        xml=element,
    )


def _owner(prop: Any) -> Any:
    """The flow node a spiffworkflow property belongs to (property -> properties -> extensionElements -> node)."""
    owner = prop
    for _ in range(3):
        owner = owner.getparent() if owner is not None else None
    return owner


def parse_xml(bpmn: str | bytes) -> Any:
    """The root element of a document, or raise etree.XMLSyntaxError."""
    data = bpmn.encode("utf-8") if isinstance(bpmn, str) else bpmn
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser)


def processes(root: Any) -> list[Any]:
    """Every ``bpmn:process`` element of a document."""
    return list(root.iter(f"{_B}process"))
