// The error registry is the single source of codes: docs/errors.md documents exactly its codes
// with their statuses, no source file uses a code string outside it, and every HTTP error reply
// takes its code and status from it.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ERRORS, OverloadedError, MethodNotAllowedError, NotFoundError, WhistleError, isErrorCode } from '../../core/errors.ts';
import { classify } from '../../core/http/http-errors.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const SOURCE_DIRS = ['app', 'core', 'ingest', 'detectors', 'remediators', 'bootstrap', 'agent', 'cli'];
const CODE = /^WHISTLE_[A-Z_]+$/;

/** The `| \`CODE\` | status | ... |` rows of docs/errors.md's table. */
function documentedCodes(): Map<string, number> {
  const doc = readFileSync(join(ROOT, 'docs', 'errors.md'), 'utf8');
  const rows = new Map<string, number>();
  for (const line of doc.split('\n')) {
    const m = /^\|\s*`(WHISTLE_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (!m) continue;
    expect(rows.has(m[1]!), `${m[1]} documented twice`).toBe(false);
    rows.set(m[1]!, Number(m[2]));
  }
  return rows;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.parentPath.includes('node_modules'))
    .map((e) => join(e.parentPath, e.name));
}

function isEnvLookup(node: ts.Node): boolean {
  // process.env['WHISTLE_X'] names an environment variable, not an error code.
  const parent = node.parent;
  return !!parent && ts.isElementAccessExpression(parent) && parent.argumentExpression === node && /\benv$/.test(parent.expression.getText());
}

/** String literals that are a whole `WHISTLE_...` word, with where they are. */
function codeLiterals(file: string): { code: string; at: string }[] {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { code: string; at: string }[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && CODE.test(node.text) && !isEnvLookup(node)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push({ code: node.text, at: `${file.slice(ROOT.length + 1)}:${line + 1}` });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('error registry', () => {
  it('docs/errors.md documents every registry code with its status, and nothing else', () => {
    const documented = documentedCodes();
    const registry = new Map(Object.entries(ERRORS).map(([code, e]) => [code, e.status as number]));
    expect([...documented.keys()].sort()).toEqual([...registry.keys()].sort());
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(registry));
  });

  it('every WHISTLE_ code literal in the source tree is a registry code', () => {
    const files = SOURCE_DIRS.flatMap((d) => tsFiles(join(ROOT, d)));
    expect(files.length).toBeGreaterThan(50);
    const literals = files.flatMap(codeLiterals);
    // The scan does see codes (the error classes use them), so an empty result is not a pass.
    expect(literals.some((l) => l.code === 'WHISTLE_INPUT_INVALID')).toBe(true);
    expect(literals.filter((l) => !isErrorCode(l.code)).map((l) => `${l.at}: ${l.code}`)).toEqual([]);
  });

  it('error classes take their HTTP status from the registry', () => {
    expect(new NotFoundError('x').httpStatus).toBe(ERRORS.WHISTLE_NOT_FOUND.status);
    expect(new OverloadedError('x', 3).httpStatus).toBe(429);
    for (const code of Object.keys(ERRORS) as (keyof typeof ERRORS)[]) {
      expect(new WhistleError(code, 'x').httpStatus).toBe(ERRORS[code].status);
    }
  });

  it('HTTP error replies use registry codes and statuses only', () => {
    const fastifyError = (code: string, statusCode: number, extra: object = {}) =>
      Object.assign(new Error(`fastify ${code}`), { code, statusCode, ...extra });
    const cases: [Error, string, number][] = [
      [new MethodNotAllowedError('read-only', ['GET', 'HEAD']), 'WHISTLE_METHOD_NOT_ALLOWED', 405],
      [fastifyError('FST_ERR_VALIDATION', 400, { validation: [{ instancePath: '/samples/3/ts', message: 'in the future' }] }), 'WHISTLE_INPUT_INVALID', 400],
      [fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413), 'WHISTLE_BODY_TOO_LARGE', 413],
      [fastifyError('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415), 'WHISTLE_UNSUPPORTED_MEDIA_TYPE', 415],
      [fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400), 'WHISTLE_MALFORMED_JSON', 400],
      [fastifyError('FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400), 'WHISTLE_BAD_REQUEST', 400],
      [fastifyError('FST_ERR_MAX_PARAM_LENGTH', 414), 'WHISTLE_BAD_REQUEST', 400],
      [fastifyError('FST_ERR_NOT_FOUND', 404), 'WHISTLE_NOT_FOUND', 404],
      [new TypeError('boom'), 'WHISTLE_INTERNAL', 500],
    ];
    for (const [err, code, status] of cases) {
      const reply = classify(err);
      expect(reply.body.code, err.message).toBe(code);
      expect(reply.status, err.message).toBe(status);
    }
    expect(classify(new MethodNotAllowedError('read-only', ['GET', 'HEAD'])).headers).toEqual({ allow: 'GET, HEAD' });
    expect(classify(new OverloadedError('full', 7)).headers).toEqual({ 'retry-after': '7' });
    expect(classify(fastifyError('FST_ERR_VALIDATION', 400, { validation: [{ instancePath: '/samples/3/ts', message: 'in the future' }] })).body.error).toBe(
      'body.samples[3].ts: in the future',
    );
    expect(classify(new TypeError('secret detail')).body.error).toBe('internal error');
  });
});
