// The shape of the code, held by a test: the import graph of the product tree has no cycle (type
// imports included: a cycle of types is still two modules that cannot be understood apart), core/
// and store/ import no stage, and detectors import nothing of ingest but its service references.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PRODUCT = ['core', 'store', 'ingest', 'agent', 'detectors', 'remediators', 'bootstrap', 'dashboards', 'console', 'app', 'cli'];
const STAGES = ['ingest', 'agent', 'detectors', 'remediators', 'bootstrap', 'dashboards', 'console', 'app', 'cli'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return p.endsWith('.ts') && !p.endsWith('.test.ts') ? [p] : [];
  });
}

/** file (relative to the repo) → the product files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const spec = /(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g;
  for (const file of PRODUCT.flatMap((d) => sources(join(root, d)))) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(spec)) deps.push(relative(root, resolve(dirname(file), m[1] ?? m[2]!)));
    graph.set(relative(root, file), deps.filter((d) => PRODUCT.includes(d.split('/')[0]!)));
  }
  return graph;
}

/** Every cycle found by a depth-first search, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === 'open') found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe('the import graph', () => {
  const graph = importGraph();

  it('has no cycle', () => {
    expect(cycles(graph).map((c) => c.join(' → '))).toEqual([]);
  });

  it('core/ and store/ import no stage', () => {
    const bad = [...graph].flatMap(([f, deps]) =>
      ['core', 'store'].includes(f.split('/')[0]!) ? deps.filter((d) => STAGES.includes(d.split('/')[0]!)).map((d) => `${f} → ${d}`) : [],
    );
    expect(bad).toEqual([]);
  });

  it('no stage imports app/ (the composition root) and only cli/ imports cli/', () => {
    const bad = [...graph].flatMap(([f, deps]) => {
      const top = f.split('/')[0]!;
      return deps.filter((d) => (d.startsWith('app/') && top !== 'app' && top !== 'cli') || (d.startsWith('cli/') && top !== 'cli')).map((d) => `${f} → ${d}`);
    });
    expect(bad).toEqual([]);
  });

  it('detectors read ingest only through its service references (the read model types live in core)', () => {
    const bad = [...graph].flatMap(([f, deps]) =>
      f.startsWith('detectors/') ? deps.filter((d) => d.startsWith('ingest/') && !d.endsWith('/services.ts')).map((d) => `${f} → ${d}`) : [],
    );
    expect(bad).toEqual([]);
  });

  it('finds the files it checks (the scan itself works)', () => {
    expect(graph.size).toBeGreaterThan(150);
    expect(graph.get('app/whistle.ts')).toContain('app/compose.ts');
  });
});
