// A deadline on one piece of async work, linked to a caller's signal. Not
// `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: on Node 20 the inner timeout signal can be
// garbage-collected before it fires, and the combined signal then never aborts (nodejs/node#57736),
// so a request meant to give up after 10 s could wait forever. Here the timer is held until the
// work ends and is cleared then.
export async function withDeadline<T>(parent: AbortSignal, ms: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ctl = new AbortController();
  const onAbort = () => ctl.abort(parent.reason);
  if (parent.aborted) ctl.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ctl.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError')), ms);
  try {
    return await work(ctl.signal);
  } finally {
    clearTimeout(timer);
    parent.removeEventListener('abort', onAbort);
  }
}
