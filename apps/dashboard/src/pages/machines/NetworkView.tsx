import '@xyflow/react/dist/style.css';

import { useComputedColorScheme } from '@mantine/core';
import { Background, ReactFlow } from '@xyflow/react';
import type { Edge, Node } from '@xyflow/react';
import { useMemo } from 'react';
import { useNavigate } from 'react-router';

import type { MachineView } from '../../api/types';
import { ago } from '../../components/format';

/** The hub in the middle, machines on rings around it; an edge per machine, dashed when it is offline. */
export default function NetworkView({ machines }: { machines: MachineView[] }) {
  const navigate = useNavigate();
  const scheme = useComputedColorScheme('light');
  const { nodes, edges } = useMemo(() => {
    const nodes: Node[] = [
      {
        id: 'hub',
        position: { x: 0, y: 0 },
        data: { label: 'hub' },
        style: { fontWeight: 700, width: 90, borderColor: 'var(--mantine-color-yellow-6)', borderWidth: 2 },
      },
    ];
    const edges: Edge[] = [];
    const perRing = 12;
    machines.forEach((m, i) => {
      const ring = Math.floor(i / perRing);
      const onRing = Math.min(perRing, machines.length - ring * perRing);
      const angle = (2 * Math.PI * (i % perRing)) / onRing + ring * 0.3;
      const r = 220 + ring * 140;
      const online = m.status === 'online';
      nodes.push({
        id: m.id,
        position: { x: Math.cos(angle) * r, y: Math.sin(angle) * r },
        data: { label: `${m.name}\n${m.status} · ${ago(m.lastSeenAt)}` },
        style: {
          whiteSpace: 'pre-line',
          fontSize: 11,
          width: 150,
          opacity: online ? 1 : 0.6,
          borderColor: online ? 'var(--mantine-color-teal-6)' : 'var(--mantine-color-gray-6)',
        },
      });
      edges.push({
        id: `hub-${m.id}`,
        source: 'hub',
        target: m.id,
        animated: online,
        style: { strokeDasharray: online ? undefined : '4 4' },
      });
    });
    return { nodes, edges };
  }, [machines]);
  return (
    <div style={{ height: 'min(70vh, 560px)', width: '100%' }} data-testid="network">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        fitView
        colorMode={scheme}
        nodesDraggable={false}
        nodesConnectable={false}
        onNodeClick={(_, node) => node.id !== 'hub' && void navigate(`/machines/${node.id}`)}
      >
        <Background />
      </ReactFlow>
    </div>
  );
}
