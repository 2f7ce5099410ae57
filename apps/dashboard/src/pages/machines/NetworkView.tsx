import '@xyflow/react/dist/style.css';

import { useComputedColorScheme } from '@mantine/core';
import { Background, Handle, Position, ReactFlow, useReactFlow, useStore } from '@xyflow/react';
import type { Edge, Node, NodeProps } from '@xyflow/react';
import { useEffect, useMemo, useRef } from 'react';
import { useNavigate } from 'react-router';

import type { MachineView } from '../../api/types';
import { ago } from '../../components/format';

const SIDES = [Position.Top, Position.Right, Position.Bottom, Position.Left];
const HIDDEN = { opacity: 0, pointerEvents: 'none' } as const;

/** Fits the picture again whenever its box changes size (a phone turned, a window narrowed): `fitView` fits only the first time. */
function FitOnResize() {
  const flow = useReactFlow();
  const fit = useRef(flow.fitView);
  fit.current = flow.fitView;
  const width = useStore((s) => s.width);
  const height = useStore((s) => s.height);
  // On a change of size only (fitting moves the viewport, which must not fit again).
  useEffect(() => {
    if (width && height) {
      void fit.current();
    }
  }, [width, height]);
  return null;
}

/** The hub, with a connection point on each side (an edge leaves from the side facing its machine). */
function HubNode() {
  return (
    <div
      style={{
        padding: '10px 24px',
        fontWeight: 700,
        border: '2px solid var(--mantine-color-yellow-6)',
        borderRadius: 8,
        background: 'var(--mantine-color-body)',
      }}
    >
      hub
      {SIDES.map((side) => (
        <Handle key={side} id={side} type="source" position={side} style={HIDDEN} isConnectable={false} />
      ))}
    </div>
  );
}

interface MachineData extends Record<string, unknown> {
  machine: MachineView;
  side: Position;
}

function MachineNode({ data }: NodeProps<Node<MachineData>>) {
  const m = data.machine;
  const online = m.status === 'online';
  return (
    <div
      data-node={m.name}
      style={{
        padding: '6px 10px',
        width: 150,
        boxSizing: 'border-box',
        fontSize: 11,
        textAlign: 'center',
        borderRadius: 8,
        border: `1px ${online ? 'solid' : 'dashed'} var(--mantine-color-${online ? 'teal' : 'gray'}-6)`,
        background: 'var(--mantine-color-body)',
        opacity: online ? 1 : 0.7,
        cursor: 'pointer',
      }}
    >
      <div style={{ fontWeight: 600, overflow: 'hidden', textOverflow: 'ellipsis' }}>{m.name}</div>
      <div>
        {m.status} · {ago(m.lastSeenAt)}
      </div>
      <Handle type="target" position={data.side} style={HIDDEN} isConnectable={false} />
    </div>
  );
}

const NODE_TYPES = { hub: HubNode, machine: MachineNode };

/** The side of a box facing a point at angle `a` from it (screen coordinates: y grows downwards). */
function facing(a: number): Position {
  const x = Math.cos(a);
  const y = Math.sin(a);
  if (Math.abs(x) > Math.abs(y)) {
    return x > 0 ? Position.Right : Position.Left;
  }
  return y > 0 ? Position.Bottom : Position.Top;
}

const OPPOSITE: Record<Position, Position> = {
  [Position.Top]: Position.Bottom,
  [Position.Bottom]: Position.Top,
  [Position.Left]: Position.Right,
  [Position.Right]: Position.Left,
};

/** The hub in the middle, machines on rings around it; an edge per machine, dashed when it is offline. */
export default function NetworkView({ machines }: { machines: MachineView[] }) {
  const navigate = useNavigate();
  const scheme = useComputedColorScheme('light');
  const { nodes, edges } = useMemo(() => {
    const nodes: Node[] = [{ id: 'hub', type: 'hub', position: { x: -35, y: -20 }, data: {} }];
    const edges: Edge[] = [];
    // Rings grow outwards and hold more the further out they are, so hundreds of machines stay legible.
    const ringSize = (ring: number) => 10 + ring * 6;
    let ring = 0;
    let firstOfRing = 0;
    machines.forEach((m, i) => {
      if (i - firstOfRing >= ringSize(ring)) {
        firstOfRing += ringSize(ring);
        ring += 1;
      }
      const onRing = Math.min(ringSize(ring), machines.length - firstOfRing);
      const angle = (2 * Math.PI * (i - firstOfRing)) / onRing + ring * 0.3 - Math.PI / 2;
      const r = 260 + ring * 180;
      const out = facing(angle);
      const online = m.status === 'online';
      nodes.push({
        id: m.id,
        type: 'machine',
        position: { x: Math.cos(angle) * r * 1.4 - 75, y: Math.sin(angle) * r - 20 },
        data: { machine: m, side: OPPOSITE[out] } satisfies MachineData,
      });
      edges.push({
        id: `hub-${m.id}`,
        source: 'hub',
        sourceHandle: out,
        target: m.id,
        type: 'straight',
        style: {
          stroke: online ? 'var(--mantine-color-teal-6)' : 'var(--mantine-color-gray-5)',
          strokeDasharray: online ? undefined : '4 4',
          strokeWidth: 1.5,
        },
      });
    });
    return { nodes, edges };
  }, [machines]);
  return (
    <div style={{ height: 'min(70vh, 560px)', width: '100%' }} data-testid="network">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        fitView
        colorMode={scheme}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => node.id !== 'hub' && void navigate(`/machines/${node.id}`)}
      >
        <Background />
        <FitOnResize />
      </ReactFlow>
    </div>
  );
}
