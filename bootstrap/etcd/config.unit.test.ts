import { describe, expect, it } from 'vitest';
import { etcdClusterSchema } from './config.ts';

const nodes = [
  { node: 'n1', address: '10.0.0.1' },
  { node: 'n2', address: '10.0.0.2' },
  { node: 'n3', address: '10.0.0.3' },
  { node: 'n4', address: '10.0.0.4', role: 'spare' },
];

describe('etcd cluster config', () => {
  it('the desired member count defaults to the nodes with role member; spares do not count', () => {
    expect(etcdClusterSchema.parse({ cluster: 'c1', nodes }).members).toBe(3);
    expect(etcdClusterSchema.parse({ cluster: 'c1', nodes, members: 1 }).members).toBe(1);
  });

  it('refuses a count no node list can hold, naming the field', () => {
    const tooMany = etcdClusterSchema.safeParse({ cluster: 'c1', nodes, members: 5 });
    expect(tooMany.success).toBe(false);
    expect(tooMany.error!.issues[0]).toMatchObject({ path: ['members'], message: 'cannot exceed the number of nodes' });
    const onlySpares = etcdClusterSchema.safeParse({ cluster: 'c1', nodes: [{ node: 'n4', address: '10.0.0.4', role: 'spare' }] });
    expect(onlySpares.error!.issues[0]!.path).toEqual(['members']);
  });
});
