import { describe, expect, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { AnyNodeSpec } from '../../nodes/core/defineNode';
import { createNodeTypeLookup, type NodeTypeInfo } from './lookup';

describe('NodeTypeLookup', () => {
  it('is satisfied structurally by a node spec', () => {
    expectTypeOf<AnyNodeSpec>().toExtend<NodeTypeInfo>();
  });

  it('createNodeTypeLookup finds types and refuses duplicates', () => {
    const spec = { type: 'a.b', version: 1, params: z.object({}), inputs: {}, outputs: {} };
    const lookup = createNodeTypeLookup([spec]);
    expect(lookup.get('a.b')).toBe(spec);
    expect(lookup.get('a.c')).toBeUndefined();
    expect(lookup.types()).toEqual(['a.b']);
    expect(() => createNodeTypeLookup([spec, spec])).toThrow(/registered twice/);
  });
});
