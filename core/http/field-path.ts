// How an error names a field of a request: `body.samples[3].ts`, `querystring.limit`,
// `body.samples[0].labels["a b"]`. One spelling for schema errors and Whistle's own checks.

/** `root` followed by each key: identifiers as `.key`, indexes as `[3]`, anything else quoted. */
export function fieldPath(root: string, keys: readonly (string | number)[]): string {
  let out = root;
  for (const k of keys) {
    if (typeof k === 'number' || /^\d+$/.test(k)) out += `[${k}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(k)) out += `.${k}`;
    else out += `[${JSON.stringify(k)}]`;
  }
  return out;
}

/** The keys of a JSON pointer (ajv's instancePath, "/samples/3/ts"). */
export function pointerKeys(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}
