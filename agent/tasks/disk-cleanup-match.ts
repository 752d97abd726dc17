// Which file names a cleanup step takes: rotated or compressed logs by name, and the configured
// globs. A glob is matched against the file's path relative to its root, so whatever it says it can
// only select files found by walking inside that root.

/** logrotate's shapes: `x.1`, `x.2.gz`, `x.gz`, `x.xz`, dateext `x-20240131` (optionally compressed). */
const ROTATED = /(?:\.\d+|-\d{8}(?:-?\d+)?)(?:\.(?:gz|xz|bz2|zst|lz4))?$|\.(?:gz|xz|bz2|zst|lz4)$/;

export function isRotatedLog(fileName: string): boolean {
  return ROTATED.test(fileName);
}

/**
 * `*` and `?` stay within one path segment, `**` spans any number of them (`**\/*.tmp` at any
 * depth, `*.tmp` only directly under the root). Every other character is literal.
 */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      const slash = glob[i + 2] === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

export function globMatcher(globs: readonly string[]): (relativePath: string) => boolean {
  const patterns = globs.map(globToRegExp);
  return (rel) => patterns.some((p) => p.test(rel));
}
