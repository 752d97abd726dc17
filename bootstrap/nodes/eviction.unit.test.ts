import { describe, expect, it } from 'vitest';
import { interpretEviction } from './eviction.ts';

// The Status bodies as kube-apiserver 1.34 writes them (pkg/registry/core/pod/storage/eviction.go).
const budgetStatus = (cause: string) => ({
  message: "Cannot evict pod as it would violate the pod's disruption budget.",
  reason: 'TooManyRequests',
  code: 429,
  details: { causes: [{ reason: 'DisruptionBudget', message: cause }] },
});

describe('what an eviction answer means', () => {
  it('a 429 from a budget is blocked, naming the budget', () => {
    expect(interpretEviction(429, budgetStatus('The disruption budget web needs 3 healthy pods and has 3 currently'))).toEqual({
      kind: 'blocked',
      pdb: 'web',
      message: 'The disruption budget web needs 3 healthy pods and has 3 currently',
    });
    expect(interpretEviction(429, budgetStatus('The disruption budget web-pdb is still being processed by the server.'))).toMatchObject({ kind: 'blocked', pdb: 'web-pdb' });
  });

  it('a 429 without a budget cause is the server throttling: an error to retry, not a budget', () => {
    expect(interpretEviction(429, { message: 'Too many requests, please try again later.', reason: 'TooManyRequests' })).toEqual({
      kind: 'error',
      status: 429,
      message: 'Too many requests, please try again later.',
    });
  });

  it('two budgets over one pod block it without a name', () => {
    const out = interpretEviction(500, { message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.', code: 500 });
    expect(out).toEqual({ kind: 'blocked', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
  });

  it('404 is gone; a UID precondition conflict is left to the next listing', () => {
    expect(interpretEviction(404, { reason: 'NotFound' })).toEqual({ kind: 'gone' });
    expect(interpretEviction(409, { message: 'the UID in the precondition (a) does not match the UID in record (b)' })).toMatchObject({ kind: 'error', status: 409 });
  });
});
