// Read-only Kubernetes API proxy for the support team:
//   GET /v1/clusters/:cluster/k8s/<api path>   e.g. /v1/clusters/prod-1/k8s/api/v1/namespaces/kube-system/pods
// forwards GETs of an allow-list of resources to that cluster's API with Whistle's own credentials.
// Requires an operator token; every request, answered or refused, is handed to `audit`.
// Refusals: 401 no/unknown token, 404 unknown cluster, 405 anything but GET, 403 secrets or a
// resource not on the allow-list, 400 an unsupported query parameter, 502 the cluster's API
// unreachable; thrown as registry errors and answered by the shared error handler (docs/errors.md).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerConfig } from '../../core/config/schema.ts';
import { ClusterUnreachableError, ForbiddenError, InputError, MethodNotAllowedError, NotFoundError, UnavailableError } from '../../core/errors.ts';
import { classify, errorHandler } from '../../core/http/http-errors.ts';
import { operatorFor } from '../../core/http/operator-auth.ts';
import type { KubeApi } from '../kube/api-client.ts';

export interface KubeProxyAuditRecord {
  ts: number;
  actor: string;
  cluster: string;
  method: string;
  path: string;
  query: string;
  status: number;
  /** Why the proxy refused, when it did (the API's own answers carry no reason here). */
  refused: string | null;
  durationMs: number;
}

export interface KubeProxyOptions {
  /** Cluster name -> API client (see KubeApi.fromKubeConfig). */
  clusters: ReadonlyMap<string, KubeApi> | Readonly<Record<string, KubeApi>>;
  operatorTokens: ServerConfig['operatorTokens'];
  /** Records each request; a served read waits for it, and is refused (503) when it throws. */
  audit: (record: KubeProxyAuditRecord) => void | Promise<void>;
  /** Override the default allow-list: "<group>/<resource>" with "" for the core group. */
  allow?: readonly string[];
}

/** Read-mostly resources a support engineer needs; never secrets, never anything that execs. */
export const DEFAULT_ALLOWED_RESOURCES: readonly string[] = [
  '/namespaces',
  '/nodes',
  '/pods',
  '/pods/status',
  '/pods/log',
  '/services',
  '/endpoints',
  '/events',
  '/persistentvolumes',
  '/persistentvolumeclaims',
  '/replicationcontrollers',
  '/resourcequotas',
  '/limitranges',
  '/nodes/status',
  'apps/deployments',
  'apps/deployments/status',
  'apps/daemonsets',
  'apps/daemonsets/status',
  'apps/statefulsets',
  'apps/statefulsets/status',
  'apps/replicasets',
  'batch/jobs',
  'batch/cronjobs',
  'events.k8s.io/events',
  'policy/poddisruptionbudgets',
  'networking.k8s.io/ingresses',
  'networking.k8s.io/networkpolicies',
  'discovery.k8s.io/endpointslices',
  'coordination.k8s.io/leases',
  'storage.k8s.io/storageclasses',
  'storage.k8s.io/volumeattachments',
];

/** Query parameters passed through; anything else is refused so nothing (watch=1, dryRun...) slips by. */
const ALLOWED_QUERY = new Set([
  'labelSelector',
  'fieldSelector',
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
  'container',
  'tailLines',
  'sinceSeconds',
  'timestamps',
  'previous',
  'limitBytes',
  'pretty',
]);

const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/i;

export type ParsedPath = { ok: true; resource: string; discovery: boolean } | { ok: false; status: 400 | 403; error: string };

/**
 * Classifies an API path (without the leading slash): discovery (`version`, `api`, `apis`,
 * `apis/<group>[/<version>]`, `api/v1`) or a resource path
 * `api/v1|apis/<g>/<v>` + `[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]`.
 */
export function parseApiPath(path: string): ParsedPath {
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => !SEGMENT.test(p))) return { ok: false, status: 400, error: `malformed API path "${path}"` };
  if (parts.some((p) => p.toLowerCase() === 'secrets')) return { ok: false, status: 403, error: 'secrets are never proxied' };
  let group: string;
  let rest: string[];
  if (parts[0] === 'version' && parts.length === 1) return { ok: true, resource: 'version', discovery: true };
  if (parts[0] === 'api') {
    if (parts.length <= 2) return { ok: true, resource: 'api', discovery: true };
    if (parts[1] !== 'v1') return { ok: false, status: 400, error: `unknown core API version "${parts[1]}"` };
    group = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis') {
    if (parts.length <= 3) return { ok: true, resource: 'apis', discovery: true };
    group = parts[1] as string;
    rest = parts.slice(3);
  } else {
    return { ok: false, status: 403, error: `only /api, /apis and /version are proxied, not "/${parts[0] ?? ''}"` };
  }
  // namespaces/<ns>/<resource>... ; but `namespaces` and `namespaces/<ns>` name the namespaces themselves.
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);
  const [resource, , sub, ...extra] = rest;
  if (!resource) return { ok: false, status: 400, error: `no resource in "${path}"` };
  if (extra.length) return { ok: false, status: 403, error: `"${path}" goes below a subresource` };
  return { ok: true, resource: `${group}/${resource}${sub ? `/${sub}` : ''}`, discovery: false };
}

function lookup(clusters: KubeProxyOptions['clusters'], name: string): KubeApi | undefined {
  if (clusters instanceof Map) return clusters.get(name);
  return Object.prototype.hasOwnProperty.call(clusters, name) ? (clusters as Record<string, KubeApi>)[name] : undefined;
}

export const kubeProxyRoutes: FastifyPluginAsync<KubeProxyOptions> = async (app, opts) => {
  const allow = new Set(opts.allow ?? DEFAULT_ALLOWED_RESOURCES);
  // The same replies as every other route, also when the proxy is mounted on its own.
  app.setErrorHandler(errorHandler());
  // Bodies are never forwarded: read and drop whatever a write carries (malformed or empty JSON
  // included), so every write gets the same 405 instead of a parser's 400/415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 1024 * 1024 }, (_req, _body, done) => done(null, undefined));

  const handler = async (req: FastifyRequest<{ Params: { cluster: string; '*': string } }>, reply: FastifyReply) => {
    const started = Date.now();
    const qi = req.url.indexOf('?');
    const rawQuery = qi >= 0 ? req.url.slice(qi + 1) : '';
    const path = `/${req.params['*']}`;
    let actor = 'anonymous';
    const audit = (status: number, refused: string | null) =>
      void Promise.resolve(
        opts.audit({ ts: started, actor, cluster: req.params.cluster, method: req.method, path, query: rawQuery, status, refused, durationMs: Date.now() - started }),
      ).catch((err: Error) => req.log.error({ err: err.message }, 'kube proxy: audit record failed'));

    const openUpstream = async () => {
      actor = operatorFor(req, opts);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        throw new MethodNotAllowedError(`the Kubernetes proxy is read-only: ${req.method} is not allowed`, ['GET', 'HEAD']);
      }
      const api = lookup(opts.clusters, req.params.cluster);
      if (!api) throw new NotFoundError(`unknown cluster "${req.params.cluster}"`);

      const parsed = parseApiPath(req.params['*']);
      if (!parsed.ok) throw parsed.status === 403 ? new ForbiddenError(parsed.error) : new InputError(parsed.error);
      if (!parsed.discovery && !allow.has(parsed.resource)) {
        throw new ForbiddenError(`resource "${parsed.resource}" is not on the proxy's allow-list`);
      }
      const query = new URLSearchParams(rawQuery);
      for (const key of query.keys()) {
        if (!ALLOWED_QUERY.has(key)) throw new InputError(`query parameter "${key}" is not supported by the proxy`);
      }
      try {
        return await api.open('GET', `${path}${rawQuery ? `?${query}` : ''}`, {
          accept: req.headers.accept?.includes('application/json') || !req.headers.accept ? 'application/json' : String(req.headers.accept),
          timeoutMs: 30_000,
        });
      } catch (err) {
        throw new ClusterUnreachableError(`cluster "${req.params.cluster}" API unreachable: ${(err as Error).message}`, { cause: err });
      }
    };

    let upstream;
    try {
      upstream = await openUpstream();
    } catch (err) {
      // Refusals are audited with the status the shared error handler will answer with.
      audit(classify(err as Error).status, (err as Error).message);
      throw err;
    }
    const status = upstream.statusCode ?? 502;
    // Fail closed: a read that cannot be recorded is not served.
    try {
      await opts.audit({ ts: started, actor, cluster: req.params.cluster, method: req.method, path, query: rawQuery, status, refused: null, durationMs: Date.now() - started });
    } catch (err) {
      upstream.destroy();
      req.log.error({ err: (err as Error).message }, 'kube proxy: audit record failed; read not served');
      throw new UnavailableError(`the read could not be recorded in the audit log (${(err as Error).message}); not served`, 5);
    }
    void reply.code(status);
    const ct = upstream.headers['content-type'];
    if (ct) void reply.type(ct);
    if (req.method === 'HEAD') {
      upstream.destroy();
      return reply.send();
    }
    return reply.send(upstream);
  };

  app.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], url: '/v1/clusters/:cluster/k8s/*', handler });
};
