// The support console's settings (`console:`). Defaults in one place.
import { z } from 'zod';

/**
 * Failed sign-ins tolerated before /console/login answers 429 (each attempt costs one scrypt).
 * Per name: a guesser aiming at one account; per address: one spraying many names. Counted in
 * memory over a sliding window: a restart forgets them, and each Whistle process counts its own.
 */
const signInThrottleSchema = z.strictObject({
  maxFailuresPerName: z.number().int().min(1).max(1000).default(5),
  maxFailuresPerAddress: z.number().int().min(1).max(10_000).default(20),
  windowMs: z.number().int().min(60_000).max(24 * 3600_000).default(15 * 60_000),
});

export const consoleSchema = z.strictObject({
  /** Serve the console under /console/. */
  enabled: z.boolean().default(true),
  /** A session ends this long after sign-in (the cookie expires with it). */
  sessionTtlMs: z.number().int().min(60_000).max(30 * 24 * 3600_000).default(12 * 3600_000),
  /** How far back a node's charts on the cluster page reach. */
  chartHours: z.number().int().min(1).max(168).default(6),
  /** Nodes whose last sample is older than this are shown as not reporting. */
  staleAfterMs: z.number().int().positive().default(60_000),
  signInThrottle: signInThrottleSchema.prefault({}),
});

export type ConsoleConfig = z.infer<typeof consoleSchema>;
export type SignInThrottleConfig = z.infer<typeof signInThrottleSchema>;
