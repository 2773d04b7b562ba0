"""Modeling rules in the spirit of bpmnlint's core rules, written over the diagram read with lxml: they
say where a diagram does something other than what it seems to draw."""

from __future__ import annotations

from collections.abc import Iterator

from forms.texts import Message

from .diagram import EVENTS, GATEWAYS, SUBPROCESSES, TASKS, Diagram, Node
from .report import ERROR, WARNING, Problem

# The gateways whose outgoing flows choose by condition.
CHOOSING = ("exclusiveGateway", "inclusiveGateway")


def no_start() -> Message:
    return Message("The process has no start event, so no case can start. Add a start event.")


def implicit_split() -> Message:
    return Message(
        "This element has several outgoing flows without conditions: they would all run at once. "
        "Add a gateway after it, or conditions on the flows."
    )


def flow_without_condition(gateway: str | None = None) -> Message:
    if gateway is None:
        return Message(
            "This flow leaves a gateway without a condition and is not its default flow, so the gateway cannot "
            "choose it. Give the flow a condition, or make it the gateway's default flow."
        )
    return Message(
        "This flow leaves the gateway “%(gateway)s” without a condition and is not its default flow, so the "
        "gateway cannot choose it. Give the flow a condition, or make it the gateway's default flow.",
        gateway=gateway,
    )


def modeling_problems(diagram: Diagram) -> Iterator[Problem]:
    """Every modeling problem of the diagram."""
    yield from _start_and_end(diagram)
    for node in diagram.nodes.values():
        yield from _disconnected(diagram, node)
        yield from _implicit_split(diagram, node)
        yield from _fake_join(diagram, node)
        yield from _conditional_flows(diagram, node)
        yield from _superfluous_gateway(diagram, node)
        yield from _label(diagram, node)
        yield from _events(diagram, node)
        yield from _join_fork(diagram, node)
    yield from _duplicate_flows(diagram)


def _containers(diagram: Diagram) -> dict[str, list[Node]]:
    """The process and each (non-event) subprocess, with the nodes drawn directly in it."""
    found: dict[str, list[Node]] = {diagram.process_id: []}
    found.update({n.id: [] for n in diagram.of_kind(*SUBPROCESSES)})
    for node in diagram.nodes.values():
        if node.container in found:
            found[node.container].append(node)
    return found


def _start_and_end(diagram: Diagram) -> Iterator[Problem]:
    for container, nodes in _containers(diagram).items():
        owner = diagram.nodes.get(container)
        if owner is not None and owner.kind != "subProcess":
            continue  # a transaction or an ad-hoc subprocess may start anywhere
        starts = [n for n in nodes if n.kind == "startEvent"]
        if not starts:
            if owner is None:
                message = no_start()
            else:
                message = Message(
                    "This subprocess has no start event, so it cannot begin. Add a start event inside it."
                )
            yield Problem(container, ERROR, "start-event-required", message)
        elif not owner or not owner.triggered_by_event:
            blank = [n for n in starts if not n.event_definitions]
            for extra in blank[1:]:
                yield Problem(
                    extra.id,
                    WARNING,
                    "single-blank-start-event",
                    Message(
                        "This is a second start event without a trigger; a case starts at one of them only. "
                        "Keep one plain start event, or give this one a message or timer."
                    ),
                )
        if nodes and not any(n.kind == "endEvent" for n in nodes) and not (owner and owner.triggered_by_event):
            yield Problem(
                container,
                WARNING,
                "end-event-required",
                Message("There is no end event here, so it is not clear where the work ends. Add an end event."),
            )


def _disconnected(diagram: Diagram, node: Node) -> Iterator[Problem]:
    if node.incoming or node.outgoing or node.kind == "boundaryEvent" or node.triggered_by_event:
        return
    container = diagram.nodes.get(node.container)
    if node.kind == "startEvent" and container is not None and container.triggered_by_event:
        return  # an event subprocess's start has no flow in
    yield Problem(
        node.id,
        WARNING,
        "no-disconnected",
        Message("This element has no flow in or out, so it never runs. Connect it with sequence flows, or delete it."),
    )


def _implicit_split(diagram: Diagram, node: Node) -> Iterator[Problem]:
    if node.kind in GATEWAYS:
        return
    plain = [f for f in diagram.outgoing(node) if f.condition is None and f.id != node.default_flow]
    if len(plain) > 1:
        # SpiffWorkflow refuses a task with several outgoing flows; an event's are a style matter.
        yield Problem(
            node.id,
            ERROR if node.kind in TASKS else WARNING,
            "no-implicit-split",
            implicit_split(),
        )


def _concurrent(diagram: Diagram) -> bool:
    """Whether two tokens can run at once anywhere: a parallel or inclusive split, a task with several plain
    outgoing flows, a non-interrupting boundary event. Without, several flows into a task are only the
    exclusive paths (or a loop back) meeting, which needs no gateway."""
    for node in diagram.nodes.values():
        if node.kind in ("parallelGateway", "inclusiveGateway", "complexGateway") and len(node.outgoing) > 1:
            return True
        if node.kind == "boundaryEvent" and not node.cancel_activity:
            return True
        if node.kind not in GATEWAYS and sum(1 for f in diagram.outgoing(node) if f.condition is None) > 1:
            return True
    return False


def _fake_join(diagram: Diagram, node: Node) -> Iterator[Problem]:
    if node.kind not in TASKS and node.kind not in EVENTS:
        return
    if len(diagram.incoming(node)) > 1 and _concurrent(diagram):
        yield Problem(
            node.id,
            WARNING,
            "fake-join",
            Message(
                "This element has several incoming flows: it runs again for each flow that arrives, it does "
                "not wait for them all. Put a gateway before it (parallel to wait for all, exclusive for either)."
            ),
        )


def _conditional_flows(diagram: Diagram, node: Node) -> Iterator[Problem]:
    if node.kind not in CHOOSING:
        return
    outgoing = diagram.outgoing(node)
    if len(outgoing) < 2:
        return
    for flow in outgoing:
        if (flow.condition is None or not flow.condition.strip()) and flow.id != node.default_flow:
            yield Problem(
                flow.id,
                ERROR,
                "conditional-flows",
                flow_without_condition(node.name or node.id),
            )


def _superfluous_gateway(diagram: Diagram, node: Node) -> Iterator[Problem]:
    if node.kind in GATEWAYS and len(diagram.incoming(node)) == 1 and len(diagram.outgoing(node)) == 1:
        yield Problem(
            node.id,
            WARNING,
            "superfluous-gateway",
            Message("This gateway has one flow in and one out, so it does nothing. Delete it and join the flows."),
        )


def _label(diagram: Diagram, node: Node) -> Iterator[Problem]:
    if node.name:
        return
    if node.kind in GATEWAYS:
        if len(diagram.outgoing(node)) < 2 or node.kind == "parallelGateway":
            return  # a join, or a parallel split, reads without words
        message = Message("This gateway has no name. Name the question it decides, for example “Documents complete?”.")
    elif node.kind in TASKS:
        message = Message("This task has no name. Name it with what is done, for example “Verify documents”.")
    else:
        message = Message("This event has no name. Name what happened, for example “Payment received”.")
    yield Problem(node.id, WARNING, "label-required", message)


def _duplicate_flows(diagram: Diagram) -> Iterator[Problem]:
    seen: dict[tuple[str, str, str | None], str] = {}
    for flow in diagram.flows.values():
        key = (flow.source, flow.target, (flow.condition or "").strip() or None)
        if key in seen:
            yield Problem(
                flow.id,
                WARNING,
                "no-duplicate-sequence-flows",
                Message(
                    "This flow repeats the flow %(other)s between the same two elements, so the next element "
                    "runs twice. Delete one of them.",
                    other=seen[key],
                ),
            )
        else:
            seen[key] = flow.id


def _events(diagram: Diagram, node: Node) -> Iterator[Problem]:
    """An event of one trigger; a subprocess's start without one, an event subprocess's start with one."""
    if node.kind in EVENTS and len(node.event_definitions) > 1:
        yield Problem(
            node.id,
            WARNING,
            "single-event-definition",
            Message("This event has several triggers, so it is not clear what it waits for. Keep one trigger."),
        )
    container = diagram.nodes.get(node.container)
    if node.kind != "startEvent" or container is None or container.kind != "subProcess":
        return
    if container.triggered_by_event and not node.event_definitions:
        yield Problem(
            node.id,
            ERROR,
            "event-sub-process-typed-start-event",
            Message(
                "This event subprocess starts with a plain start event, so nothing ever starts it. Give the "
                "start event a trigger (a message, timer or error)."
            ),
        )
    elif not container.triggered_by_event and node.event_definitions:
        yield Problem(
            node.id,
            WARNING,
            "sub-process-blank-start-event",
            Message(
                "A subprocess starts when the flow reaches it, so its start event takes no trigger. Make it a "
                "plain start event."
            ),
        )


def _join_fork(diagram: Diagram, node: Node) -> Iterator[Problem]:
    if node.kind in GATEWAYS and len(diagram.incoming(node)) > 1 and len(diagram.outgoing(node)) > 1:
        yield Problem(
            node.id,
            WARNING,
            "no-gateway-join-fork",
            Message(
                "This gateway both joins and splits flows, which is hard to read. Use one gateway to join and "
                "another to split."
            ),
        )
