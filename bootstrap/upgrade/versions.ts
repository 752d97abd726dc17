// Increasing row versions for the append-only upgrade tables: wall-clock microseconds, so changes
// of one id stay ordered across restarts and replicas.
let last = 0;

export function nextVersion(): number {
  last = Math.max(last + 1, Date.now() * 1000);
  return last;
}
