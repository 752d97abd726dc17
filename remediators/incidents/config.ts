// Incident lifecycle tuning: when an incident resolves and how flapping is damped. Defaults in one place.
import { z } from 'zod';

export const incidentsSchema = z.strictObject({
  /** A detector that ran and no longer reports a problem for this long resolves its incident. */
  resolveWindowMs: z.number().int().nonnegative().default(5 * 60_000),
  /** An incident stays open at least this long, so a one-tick blip does not open and close at once. */
  minOpenMs: z.number().int().nonnegative().default(2 * 60_000),
  /** A fingerprint that comes back within this long after resolving reopens its incident instead of a new one. */
  reopenWindowMs: z.number().int().nonnegative().default(30 * 60_000),
  /** Each reopen doubles the resolve window (damping a flapping signal), up to this many doublings. */
  maxFlapDoublings: z.number().int().nonnegative().max(10).default(3),
  /** How often silences and maintenance windows are re-read (other replicas may write them). */
  refreshMs: z.number().int().positive().default(30_000),
});

export type IncidentsConfig = z.infer<typeof incidentsSchema>;
