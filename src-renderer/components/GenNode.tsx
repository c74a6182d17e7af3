/**
 * The one node component, built from the node spec: family colour, typed handles coloured
 * by port type, shapes on hover, key params inline, diagnostics on the node and its ports,
 * and (equations on) the node type's equation, fitted to the node's width.
 */
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { memo, useContext, useState } from 'react';
import { describePortType, type PortDecl } from '../../nodes/core/ports';
import type { NodeInstance } from '../../src-main/document/schema';
import { defaultParams, familyColour, familyLabel, PORT_COLOR, ROLE_COLOR, specOf, type AnyNodeSpec } from '../model/registry';
import type { NodeCheck } from '../model/validation';
import { NodeDisplayContext } from './canvas/NodeDisplay';
import { Katex } from './Katex';

export interface GenNodeData extends Record<string, unknown> {
  node: NodeInstance;
  check: NodeCheck;
  colorBy: 'family' | 'role';
  readOnly?: boolean;
}
export type GenFlowNode = Node<GenNodeData, 'gen'>;

const HIDDEN_PARAMS = new Set(['optimizer', 'trains', 'order', 'stepsPerRound', 'csvPath', 'csvColumns']);

function fmtValue(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.join('·') : '[]';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) < 1e-3 ? v.toExponential(0) : String(+v.toPrecision(3));
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (v && typeof v === 'object') return '{…}';
  return String(v);
}

/** up to three params worth seeing on the canvas */
export function keyParams(spec: AnyNodeSpec, params: Record<string, unknown>): [string, string][] {
  const merged = { ...defaultParams(spec), ...params } as Record<string, unknown>;
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(merged)) {
    if (HIDDEN_PARAMS.has(k) || v === '' || v === undefined) continue;
    out.push([k, fmtValue(v)]);
    if (out.length === 3) break;
  }
  if (spec.role === 'objective') {
    const opt = merged.optimizer as { kind?: string; lr?: number } | undefined;
    if (opt?.kind === 'update') out.unshift(['update', 'closed form']);
    else if (opt?.lr !== undefined) out.unshift(['lr', fmtValue(opt.lr)]);
    const trains = merged.trains as string[] | undefined;
    if (trains?.length) out.push(['trains', trains.join(', ')]);
    const spr = merged.stepsPerRound as number | undefined;
    if (spr && spr > 1) out.push(['×round', String(spr)]);
  }
  return out.slice(0, 4);
}

interface PortProps {
  name: string;
  decl: PortDecl;
  side: 'in' | 'out';
  shape?: string;
  problems?: { message: string; severity: string }[];
  readOnly?: boolean;
  onHover: (p: string | null) => void;
  hovered: boolean;
}

function Port({ name, decl, side, shape, problems, readOnly, onHover, hovered }: PortProps) {
  const kind = decl.type.kind;
  const bad = problems && problems.length > 0;
  const typeText = describePortType(decl.type);
  return (
    <div
      className={`port port-${side}${bad ? ' port-bad' : ''}`}
      data-port={name}
      data-side={side}
      onMouseEnter={() => onHover(`${side}:${name}`)}
      onMouseLeave={() => onHover(null)}
    >
      <Handle
        type={side === 'in' ? 'target' : 'source'}
        position={side === 'in' ? Position.Left : Position.Right}
        id={name}
        isConnectable={!readOnly}
        className={`handle handle-${kind}${bad ? ' handle-bad' : ''}`}
        style={{ background: PORT_COLOR[kind], borderColor: bad ? 'var(--error)' : undefined }}
        title=""
      />
      <span className="port-name">
        {name}
        {decl.optional ? <span className="port-opt">?</span> : null}
      </span>
      <span className="port-type" style={{ color: PORT_COLOR[kind] }}>
        {typeText}
      </span>
      {hovered ? (
        <div className={`port-tip port-tip-${side}`} role="tooltip">
          <div>
            <b>{name}</b> <span style={{ color: PORT_COLOR[kind] }}>{typeText}</span>
            {shape ? <span className="tip-shape"> {shape}</span> : <span className="tip-dim"> (shape unknown until connected)</span>}
          </div>
          {decl.doc ? <div className="tip-doc">{decl.doc}</div> : null}
          {problems?.map((p, i) => (
            <div key={i} className={`tip-diag tip-${p.severity}`}>
              {p.message}
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function GenNodeImpl({ data, selected, id }: NodeProps<GenFlowNode>) {
  const [hover, setHover] = useState<string | null>(null);
  const { equations } = useContext(NodeDisplayContext);
  const spec = specOf(data.node.type);
  if (!spec) {
    return (
      <div className="gnode gnode-unknown has-error">
        <div className="gnode-head">
          <span className="gnode-title">Unknown type</span>
          <span className="gnode-id">{id}</span>
        </div>
        <div className="gnode-diag">unknown node type “{data.node.type}”</div>
      </div>
    );
  }
  const color = data.colorBy === 'role' ? ROLE_COLOR[spec.role] : familyColour(spec);
  const inputs = Object.entries(spec.inputs);
  const outputs = Object.entries(spec.outputs);
  const rows = Math.max(inputs.length, outputs.length);
  const errors = data.check.diagnostics.filter((d) => d.severity === 'error');
  const warnings = data.check.diagnostics.filter((d) => d.severity === 'warning');
  const nodeLevel = data.check.diagnostics.filter((d) => !d.port || !(d.port in spec.inputs || d.port in spec.outputs));
  const params = keyParams(spec, data.node.params);
  const port = (p: (typeof inputs)[number] | undefined, side: 'in' | 'out') =>
    p ? (
      <Port
        name={p[0]}
        decl={p[1]}
        side={side}
        shape={(side === 'in' ? data.check.inShapes : data.check.outShapes)[p[0]]}
        problems={data.check.ports[p[0]]}
        readOnly={data.readOnly}
        onHover={setHover}
        hovered={hover === `${side}:${p[0]}`}
      />
    ) : (
      <span />
    );
  return (
    <div
      className={`gnode${selected ? ' selected' : ''}${errors.length ? ' has-error' : warnings.length ? ' has-warning' : ''}${hover ? ' hovering' : ''}`}
      style={{ ['--fam' as string]: color }}
      data-node-id={id}
      data-type={spec.type}
    >
      <div className="gnode-head">
        <span className="gnode-family">{data.colorBy === 'role' && spec.role !== 'none' ? spec.role : familyLabel(spec)}</span>
        <span className="gnode-title">{spec.title}</span>
        <span className="gnode-id">{id}</span>
        {errors.length ? (
          <span className="gnode-badge badge-error" title={errors.map((e) => e.message).join('\n')}>
            {errors.length}
          </span>
        ) : warnings.length ? (
          <span className="gnode-badge badge-warning" title={warnings.map((e) => e.message).join('\n')}>
            !
          </span>
        ) : null}
      </div>
      <div className="gnode-ports">
        {Array.from({ length: rows }, (_, i) => {
          const inp = inputs[i];
          const out = outputs[i];
          return (
            <div className="prow" key={i}>
              {port(inp, 'in')}
              {port(out, 'out')}
            </div>
          );
        })}
      </div>
      {equations && spec.math.latex ? (
        <div className="gnode-math" data-testid="node-math">
          <Katex latex={spec.math.latex} fit className="katex-node" />
        </div>
      ) : null}
      {params.length ? (
        <div className="gnode-params">
          {params.map(([k, v]) => (
            <span key={k} className="kp">
              <span className="kp-k">{k}</span> <span className="kp-v">{v}</span>
            </span>
          ))}
        </div>
      ) : null}
      {!data.readOnly && (errors.length || warnings.length) ? (
        <div className={`gnode-diag ${errors.length ? 'diag-error' : 'diag-warning'}`}>
          {(errors[0] ?? warnings[0])!.port && !nodeLevel.includes((errors[0] ?? warnings[0])!) ? <b>{(errors[0] ?? warnings[0])!.port}: </b> : null}
          {(errors[0] ?? warnings[0])!.message}
          {errors.length + warnings.length > 1 ? <span className="diag-more"> (+{errors.length + warnings.length - 1} more)</span> : null}
        </div>
      ) : null}
    </div>
  );
}

export const GenNode = memo(GenNodeImpl);
