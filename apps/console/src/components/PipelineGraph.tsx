import { useMemo } from 'react';
import { PipelineModel, pipelinesOf } from '../lib/pipelines';

const BOX_W = 150;
const BOX_H = 28;
const GAP_X = 50;
const GAP_Y = 10;
const LANE_PAD = 30;

interface Node {
  id: string;
  label: string;
  kind: 'receiver' | 'processor' | 'exporter';
  x: number;
  y: number;
}

function lane(p: PipelineModel, top: number) {
  // columns: receivers | each processor | exporters
  const columns: Array<{ kind: Node['kind']; items: string[] }> = [
    { kind: 'receiver', items: p.receivers },
    ...p.processors.map((x) => ({ kind: 'processor' as const, items: [x] })),
    { kind: 'exporter', items: p.exporters },
  ];
  const rows = Math.max(1, p.receivers.length, p.exporters.length);
  const height = LANE_PAD + rows * (BOX_H + GAP_Y);
  const nodes: Node[][] = columns.map((c, ci) =>
    c.items.map((label, k) => {
      const offset = ((rows - c.items.length) * (BOX_H + GAP_Y)) / 2;
      return { id: `${p.name}/${ci}/${label}`, label, kind: c.kind, x: 10 + ci * (BOX_W + GAP_X), y: top + LANE_PAD + offset + k * (BOX_H + GAP_Y) };
    }),
  );
  const edges: Array<[Node, Node]> = [];
  for (let ci = 0; ci + 1 < nodes.length; ci++) for (const from of nodes[ci]!) for (const to of nodes[ci + 1]!) edges.push([from, to]);
  return { nodes: nodes.flat(), edges, height, width: 10 + columns.length * (BOX_W + GAP_X) };
}

/** Receivers → processors → exporters of each pipeline, one swim lane per pipeline, drawn as SVG. */
export function PipelineGraph({ yaml, title }: { yaml: string; title: string }) {
  const result = useMemo(() => {
    try {
      return { pipelines: pipelinesOf(yaml) };
    } catch (e) {
      return { error: e instanceof Error ? e.message : String(e) };
    }
  }, [yaml]);
  if ('error' in result) return <p className="muted">The pipeline view needs valid YAML: {result.error}</p>;
  if (!result.pipelines.length) return <p className="muted">No pipelines under service.pipelines.</p>;
  let top = 0;
  const lanes = result.pipelines.map((p) => {
    const l = lane(p, top);
    const out = { p, top, ...l };
    top += l.height + 10;
    return out;
  });
  const width = Math.max(...lanes.map((l) => l.width));
  const summary = result.pipelines.map((p) => `${p.name}: ${[p.receivers.join(', '), ...p.processors, p.exporters.join(', ')].filter(Boolean).join(' → ')}`).join('; ');
  return (
    <figure className="pipeline-graph">
      <svg role="img" aria-label={`${title}. ${summary}`} width={width} height={top} viewBox={`0 0 ${width} ${top}`}>
        {lanes.map((l) => (
          <g key={l.p.name} data-pipeline={l.p.name}>
            <rect className="lane" x={0} y={l.top} width={width} height={l.height} rx={6} />
            <text className="lane-title" x={10} y={l.top + 18}>
              {l.p.name}
            </text>
            {l.edges.map(([a, b], k) => (
              <line key={k} className="edge" x1={a.x + BOX_W} y1={a.y + BOX_H / 2} x2={b.x} y2={b.y + BOX_H / 2} />
            ))}
            {l.nodes.map((n) => (
              <g key={n.id} className={`node node-${n.kind}`}>
                <rect x={n.x} y={n.y} width={BOX_W} height={BOX_H} rx={4} />
                <text x={n.x + 8} y={n.y + 18}>
                  {n.label.length > 20 ? `${n.label.slice(0, 19)}…` : n.label}
                </text>
              </g>
            ))}
          </g>
        ))}
      </svg>
      <figcaption className="sr-only">{summary}</figcaption>
    </figure>
  );
}
