/**
 * The graph document as it is stored on disk (format version CURRENT_FORMAT_VERSION):
 *
 *     { format: "genloom", version: 1, meta: {...},
 *       nodes: [{ id, type, version, params, ui? }],
 *       edges: [{ from: [nodeId, portName], to: [nodeId, portName] }] }
 *
 * These schemas check structure only. Node params are checked later, against the node
 * type's own zod schema (see parseDocument). Documents, nodes and edges are strict (an
 * unknown key such as a misspelt `parmas` is an error); `meta` and `ui` are open, so tools
 * and the renderer may keep extra fields there.
 */
import { z } from 'zod';
import { describeValue } from './errors';

export const CURRENT_FORMAT_VERSION = 1;
export const FORMAT_NAME = 'genloom';

export const NODE_ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

export const NodeIdSchema = z.string().regex(NODE_ID_PATTERN, {
  error: (iss) =>
    `a node id must be a non-empty string of letters, digits, "_", "." and "-", received ${describeValue(iss.input)}`,
});

export const PortNameSchema = z.string().min(1);

/** Canvas layout. Never read by the compiler. */
export const NodeUiSchema = z.looseObject({
  x: z.number(),
  y: z.number(),
  collapsed: z.boolean().optional(),
  group: z.string().optional(),
});

export const NodeInstanceSchema = z.strictObject({
  id: NodeIdSchema,
  /** namespaced node type, `category.name` */
  type: z.string().min(1),
  /** version of the node type that wrote `params` */
  version: z.number().int().nonnegative(),
  /** validated later against the node type's own schema */
  params: z.record(z.string(), z.unknown()),
  ui: NodeUiSchema.optional(),
});

/** `[nodeId, portName]` */
export const EndpointSchema = z.tuple([NodeIdSchema, PortNameSchema], {
  error: (iss) =>
    iss.code === 'invalid_type' || iss.code === 'too_small' || iss.code === 'too_big'
      ? `expected [nodeId, portName], received ${Array.isArray(iss.input) ? `an array of ${iss.input.length}` : describeValue(iss.input)}`
      : undefined,
});

export const EdgeSchema = z.strictObject({
  /** an output port */
  from: EndpointSchema,
  /** an input port */
  to: EndpointSchema,
});

export const DocumentMetaSchema = z.looseObject({
  title: z.string().optional(),
  description: z.string().optional(),
  /** name of the dataset the graph was built for, e.g. `swissroll` */
  dataset: z.string().optional(),
  /** `genloom <version>` that last saved the file */
  createdWith: z.string().optional(),
});

export const GraphDocumentSchema = z.strictObject({
  format: z.literal(FORMAT_NAME),
  version: z.literal(CURRENT_FORMAT_VERSION),
  meta: DocumentMetaSchema.default({}),
  nodes: z.array(NodeInstanceSchema),
  edges: z.array(EdgeSchema),
});

export type NodeUi = z.output<typeof NodeUiSchema>;
export type NodeInstance = z.output<typeof NodeInstanceSchema>;
export type Endpoint = z.output<typeof EndpointSchema>;
export type Edge = z.output<typeof EdgeSchema>;
export type DocumentMeta = z.output<typeof DocumentMetaSchema>;
export type GraphDocument = z.output<typeof GraphDocumentSchema>;
/** What may be written by hand: `meta` may be left out. */
export type GraphDocumentInput = z.input<typeof GraphDocumentSchema>;
