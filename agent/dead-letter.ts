// Batches the management plane rejected for good (400/413) or spool files that cannot be read. They
// are kept as JSON files in stateDir/dead-letter for a person to inspect, so the sender can move on
// instead of retrying a batch that will never be accepted. Only the newest `maxFiles` are kept.
import { mkdir, readdir, rename } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { TEMP_PREFIX, unlinkIfExists, writeFileAtomic } from './atomic-file.ts';
import type { WireSample } from './collectors/types.ts';

export interface DeadLetterRecord {
  status: number;
  reason: string;
  cluster: string;
  node: string;
  deadLetteredAt: string;
  samples: WireSample[];
}

export class DeadLetter {
  private counter = 0;
  constructor(
    readonly dir: string,
    private readonly maxFiles: number,
  ) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** File names sort by time, so trimming removes the oldest. */
  private nextName(suffix: string): string {
    return `${String(Date.now()).padStart(15, '0')}-${String(this.counter++).padStart(6, '0')}-${suffix}`;
  }

  async write(record: DeadLetterRecord): Promise<string | undefined> {
    if (this.maxFiles === 0) return undefined;
    const path = join(this.dir, this.nextName(`http${record.status}.json`));
    await writeFileAtomic(path, JSON.stringify(record));
    await this.trim();
    return path;
  }

  /** Moves an unreadable spool file here untouched. */
  async adopt(file: string): Promise<string | undefined> {
    if (this.maxFiles === 0) {
      await unlinkIfExists(file);
      return undefined;
    }
    const path = join(this.dir, this.nextName(`corrupt-${basename(file)}`));
    await rename(file, path);
    await this.trim();
    return path;
  }

  async list(): Promise<string[]> {
    return (await readdir(this.dir)).filter((f) => !f.startsWith(TEMP_PREFIX)).sort();
  }

  private async trim(): Promise<void> {
    const files = await this.list();
    for (const f of files.slice(0, Math.max(0, files.length - this.maxFiles))) await unlinkIfExists(join(this.dir, f));
  }
}
