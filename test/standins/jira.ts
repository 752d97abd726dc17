// A local stand-in for the Jira REST endpoints Whistle uses, answering as each flavor does:
//
//   Jira Cloud (flavor "cloud", the default)
//     - basic auth with email:API token; a refused credential is 401 with the gateway's text;
//     - /rest/api/3: descriptions and comment bodies must be Atlassian Document Format, a string is
//       400 "Operation value must be an Atlassian Document"; /rest/api/2 takes strings;
//     - GET/POST /rest/api/{2,3}/search answer 410 Gone with Cloud's own body (removed in 2025,
//       CHANGE-2046); GET/POST /rest/api/{2,3}/search/jql is the search: token-paged
//       (nextPageToken, isLast, no total), only issue ids unless fields are asked for, unbounded
//       JQL refused, and eventually consistent (`searchLagMs`: a new issue shows after a while).
//   Jira Data Center (flavor "datacenter")
//     - bearer personal access token (or basic username:password); 401 with errorMessages;
//     - /rest/api/2 only (v3 and /search/jql are 404), plain-text bodies;
//     - POST/GET /rest/api/2/search paged by startAt/maxResults with total.
//   Both cap a page at `pageSize` (servers may return fewer than maxResults) and answer 403 for
//   creates when `canCreate` is false.
//
// Descriptions and comments are kept as plain text (ADF flattened) for assertions, next to what
// was sent. Every request is recorded; `failNext` simulates an outage.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

export type JiraFlavor = 'cloud' | 'datacenter';

export interface JiraIssue {
  id: string;
  key: string;
  fields: { summary: string; description: string; labels: string[]; project: { key: string }; issuetype: { name: string }; created: string };
  /** Comment bodies as plain text. */
  comments: string[];
  status: string;
  /** The description and comment bodies exactly as sent (ADF documents on Cloud's v3). */
  sent: { description: unknown; comments: unknown[] };
  createdAt: number;
}

export interface JiraCall {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

export interface JiraStandinOptions {
  flavor?: JiraFlavor;
  /** Most issues one search page returns, whatever maxResults asks for. */
  pageSize?: number;
  /** Cloud: how long a new issue takes to show in search results. */
  searchLagMs?: number;
}

const TRANSITIONS = [
  { id: '11', name: 'To Do', to: 'To Do', category: 'new' },
  { id: '21', name: 'In Progress', to: 'In Progress', category: 'indeterminate' },
  { id: '31', name: 'Done', to: 'Done', category: 'done' },
];

/** Cloud's answer on the removed search endpoints, as its users have recorded it. */
export const CLOUD_SEARCH_GONE = {
  errorMessages: [
    'The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046',
  ],
  errors: {},
};
const CLOUD_UNAUTHENTICATED = 'Client must be authenticated to access this resource.';
const DC_UNAUTHENTICATED = { errorMessages: ['You are not authenticated. Authentication required to perform this operation.'], errors: {} };
const NO_ISSUE = { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} };
const NOT_ADF = 'Operation value must be an Atlassian Document (see the Atlassian Document Format)';

interface AdfNode {
  type?: string;
  text?: string;
  content?: AdfNode[];
}

function isAdf(v: unknown): v is AdfNode {
  const d = v as { type?: unknown; version?: unknown; content?: unknown } | null;
  return !!d && typeof d === 'object' && d.type === 'doc' && d.version === 1 && Array.isArray(d.content);
}

/** Flattens ADF as Jira renders it as text: paragraphs apart by a blank line, hard breaks as newlines. */
export function adfText(doc: AdfNode): string {
  const inline = (n: AdfNode): string => (n.type === 'text' ? (n.text ?? '') : n.type === 'hardBreak' ? '\n' : (n.content ?? []).map(inline).join(''));
  return (doc.content ?? []).map(inline).join('\n\n');
}

export class JiraStandin {
  readonly issues = new Map<string, JiraIssue>();
  readonly calls: JiraCall[] = [];
  readonly flavor: JiraFlavor;
  /** Whether the account may create issues in the project (403 otherwise). */
  canCreate = true;
  private app: FastifyInstance | null = null;
  private failures = { remaining: 0, status: 503 };
  private readonly pageSize: number;
  /** Cloud: how long a new issue takes to show in search results. */
  searchLagMs: number;
  private readonly tokens = new Map<string, { jql: string; at: number }>();
  url = '';

  constructor(
    readonly email: string,
    /** Cloud: the API token; Data Center: the personal access token. Change it to revoke it. */
    public apiToken: string,
    readonly project = 'OPS',
    opts: JiraStandinOptions = {},
  ) {
    this.flavor = opts.flavor ?? 'cloud';
    this.pageSize = opts.pageSize ?? 100;
    this.searchLagMs = opts.searchLagMs ?? 0;
  }

  failNext(n: number, status = 503): void {
    this.failures = { remaining: n, status };
  }

  /** Requests to `path` (without the query string), optionally only those with this method. */
  callsTo(path: string, method?: string): JiraCall[] {
    return this.calls.filter((c) => c.path.split('?')[0] === path && (!method || c.method === method));
  }

  /** An issue as a person (or a clone) would make it in Jira's UI, outside Whistle. */
  addIssue(fields: { summary: string; labels: string[]; createdAt?: number }): JiraIssue {
    return this.store({ summary: fields.summary, labels: fields.labels, project: { key: this.project }, issuetype: { name: 'Task' } }, '', fields.createdAt);
  }

  async start(): Promise<string> {
    const app = Fastify({ logger: false });
    app.addHook('onRequest', async (req, reply) => {
      if (this.failures.remaining > 0) {
        this.failures.remaining--;
        return reply.code(this.failures.status).send({ errorMessages: ['service unavailable'] });
      }
      if (!this.authenticated(req.headers.authorization)) {
        if (this.flavor === 'cloud') return reply.code(401).header('www-authenticate', 'Basic realm="protected-area"').type('text/plain').send(CLOUD_UNAUTHENTICATED);
        return reply.code(401).send(DC_UNAUTHENTICATED);
      }
    });
    app.addHook('onResponse', async (req, reply) => {
      this.calls.push({ method: req.method, path: req.url, status: reply.statusCode, body: req.body ?? null });
    });
    const versions = this.flavor === 'cloud' ? ['2', '3'] : ['2'];
    for (const v of versions) this.issueRoutes(app, `/rest/api/${v}`, v === '3');
    if (this.flavor === 'cloud') {
      for (const v of versions) {
        const gone = async (_req: FastifyRequest, reply: FastifyReply) => reply.code(410).send(CLOUD_SEARCH_GONE);
        app.get(`/rest/api/${v}/search`, gone);
        app.post(`/rest/api/${v}/search`, gone);
        app.get<{ Querystring: Record<string, string> }>(`/rest/api/${v}/search/jql`, async (req, reply) => this.tokenSearch(reply, { ...req.query, fields: req.query.fields?.split(','), maxResults: Number(req.query.maxResults ?? 50) }));
        app.post<{ Body: SearchBody }>(`/rest/api/${v}/search/jql`, async (req, reply) => this.tokenSearch(reply, req.body ?? {}));
      }
    } else {
      app.get<{ Querystring: Record<string, string> }>('/rest/api/2/search', async (req, reply) =>
        this.offsetSearch(reply, { ...req.query, fields: req.query.fields?.split(','), startAt: Number(req.query.startAt ?? 0), maxResults: Number(req.query.maxResults ?? 50) }),
      );
      app.post<{ Body: SearchBody }>('/rest/api/2/search', async (req, reply) => this.offsetSearch(reply, req.body ?? {}));
    }
    app.setNotFoundHandler((req, reply) => {
      // What both answer for a REST resource they do not have (Data Center: v3, /search/jql).
      reply.code(404).send({ errorMessages: [`null for uri: ${this.url}${req.url}`], errors: {} });
    });
    this.app = app;
    this.url = await app.listen({ host: '127.0.0.1', port: 0 });
    return this.url;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = null;
  }

  private authenticated(header: string | undefined): boolean {
    if (this.flavor === 'cloud') return header === `Basic ${Buffer.from(`${this.email}:${this.apiToken}`).toString('base64')}`;
    // A personal access token, or basic auth with the username and password (older servers).
    return header === `Bearer ${this.apiToken}` || header === `Basic ${Buffer.from(`${this.email}:${this.apiToken}`).toString('base64')}`;
  }

  private issueRoutes(app: FastifyInstance, base: string, adf: boolean): void {
    /** A rich-text value as this API version takes it, as text; or the 400 Jira answers. */
    const text = (field: string, v: unknown): { text: string } | { error: Record<string, string> } => {
      if (v === undefined) return { text: '' };
      if (adf) return isAdf(v) ? { text: adfText(v) } : { error: { [field]: NOT_ADF } };
      return typeof v === 'string' ? { text: v } : { error: { [field]: 'Operation value must be a string' } };
    };

    app.post<{ Body: { fields?: Partial<Omit<JiraIssue['fields'], 'description'>> & { description?: unknown } } }>(`${base}/issue`, async (req, reply) => {
      const f = req.body?.fields;
      const errors: Record<string, string> = {};
      if (!f?.summary) errors.summary = 'You must specify a summary of the issue.';
      if (f?.project?.key !== this.project) errors.project = 'valid project is required';
      if (!f?.issuetype?.name) errors.issuetype = 'valid issue type is required';
      const description = text('description', f?.description);
      if ('error' in description) Object.assign(errors, description.error);
      if (Object.keys(errors).length > 0) return reply.code(400).send({ errorMessages: [], errors });
      if (!this.canCreate) return reply.code(403).send({ errorMessages: ['You do not have permission to create issues in this project.'], errors: {} });
      const issue = this.store({ summary: f!.summary!, labels: f!.labels ?? [], project: f!.project!, issuetype: f!.issuetype! }, (description as { text: string }).text);
      issue.sent.description = f!.description;
      return reply.code(201).send({ id: issue.id, key: issue.key, self: `${this.url}${base}/issue/${issue.id}` });
    });

    app.get<{ Params: { key: string } }>(`${base}/issue/:key`, async (req, reply) => {
      const issue = this.issues.get(req.params.key);
      if (!issue) return reply.code(404).send(NO_ISSUE);
      const t = TRANSITIONS.find((x) => x.to === issue.status)!;
      return { id: issue.id, key: issue.key, fields: { status: { name: issue.status, statusCategory: { key: t.category } } } };
    });

    app.post<{ Params: { key: string }; Body: { body?: unknown } }>(`${base}/issue/:key/comment`, async (req, reply) => {
      const issue = this.issues.get(req.params.key);
      if (!issue) return reply.code(404).send(NO_ISSUE);
      const body = text('comment', req.body?.body);
      if ('error' in body) return reply.code(400).send({ errorMessages: [], errors: body.error });
      if (!body.text) return reply.code(400).send({ errorMessages: [], errors: { comment: 'Comment body can not be empty!' } });
      issue.comments.push(body.text);
      issue.sent.comments.push(req.body?.body);
      return reply.code(201).send({ id: String(issue.comments.length), body: req.body?.body });
    });

    app.get<{ Params: { key: string } }>(`${base}/issue/:key/transitions`, async (req, reply) => {
      if (!this.issues.has(req.params.key)) return reply.code(404).send(NO_ISSUE);
      return { expand: 'transitions', transitions: TRANSITIONS.map(({ id, name, to }) => ({ id, name, to: { name: to } })) };
    });

    app.post<{ Params: { key: string }; Body: { transition?: { id?: string } } }>(`${base}/issue/:key/transitions`, async (req, reply) => {
      const issue = this.issues.get(req.params.key);
      if (!issue) return reply.code(404).send(NO_ISSUE);
      const t = TRANSITIONS.find((x) => x.id === req.body?.transition?.id);
      if (!t) return reply.code(400).send({ errorMessages: ['Transition id is not valid for this issue.'], errors: {} });
      issue.status = t.to;
      return reply.code(204).send();
    });
  }

  /** Cloud's enhanced search: a page and the token of the next one, no total. */
  private tokenSearch(reply: FastifyReply, body: SearchBody) {
    if (!body.jql?.trim() || /^\s*order by/i.test(body.jql)) return reply.code(400).send({ errorMessages: ['Unbounded JQL queries are not allowed here. Please add a search restriction to your query.'], errors: {} });
    let start = 0;
    if (body.nextPageToken) {
      const t = this.tokens.get(body.nextPageToken);
      if (!t || t.jql !== body.jql) return reply.code(400).send({ errorMessages: ['Invalid nextPageToken.'], errors: {} });
      start = t.at;
    }
    const matches = this.match(reply, body.jql, (i) => Date.now() - i.createdAt >= this.searchLagMs);
    if (!matches) return reply;
    const size = Math.min(body.maxResults ?? 50, this.pageSize);
    const page = matches.slice(start, start + size);
    const isLast = start + page.length >= matches.length;
    const res: Record<string, unknown> = { issues: page.map((i) => this.view(i, body.fields)), isLast };
    if (!isLast) {
      const token = `tok-${this.tokens.size + 1}-${start + page.length}`;
      this.tokens.set(token, { jql: body.jql, at: start + page.length });
      res.nextPageToken = token;
    }
    return res;
  }

  /** Data Center's classic search: startAt/maxResults/total; navigable fields by default. */
  private offsetSearch(reply: FastifyReply, body: SearchBody) {
    const matches = this.match(reply, body.jql ?? '', () => true);
    if (!matches) return reply;
    const startAt = body.startAt ?? 0;
    const maxResults = Math.min(body.maxResults ?? 50, this.pageSize);
    return { expand: 'schema,names', startAt, maxResults, total: matches.length, issues: matches.slice(startAt, startAt + maxResults).map((i) => this.view(i, body.fields ?? ['*navigable'])) };
  }

  /** The stand-in's JQL: `labels = "<label>"`, optionally `ORDER BY created ASC|DESC`. */
  private match(reply: FastifyReply, jql: string, visible: (i: JiraIssue) => boolean): JiraIssue[] | null {
    const m = /^labels\s*=\s*"([^"]+)"(?:\s+ORDER BY created(?:\s+(ASC|DESC))?)?$/i.exec(jql.trim());
    if (!m) {
      reply.code(400).send({ errorMessages: ['stand-in supports only: labels = "<label>" [ORDER BY created ASC|DESC]'], errors: {} });
      return null;
    }
    const found = [...this.issues.values()].filter((i) => i.fields.labels.includes(m[1]!) && visible(i)).sort((a, b) => a.createdAt - b.createdAt);
    return m[2]?.toUpperCase() === 'DESC' ? found.reverse() : found;
  }

  /** An issue in a search result: only its id when no fields were asked for (Cloud's default). */
  private view(i: JiraIssue, fields: string[] | undefined) {
    if (!fields || fields.length === 0 || (fields.length === 1 && fields[0] === 'id')) return { id: i.id };
    const all = fields.includes('*navigable') || fields.includes('*all');
    const picked = Object.fromEntries(Object.entries(i.fields).filter(([k]) => all || fields.includes(k)));
    return { expand: '', id: i.id, self: `${this.url}/rest/api/2/issue/${i.id}`, key: i.key, fields: picked };
  }

  private store(fields: Omit<JiraIssue['fields'], 'description' | 'created'>, description: string, createdAt = Date.now()): JiraIssue {
    const n = this.issues.size + 1;
    const issue: JiraIssue = {
      id: String(10_000 + n),
      key: `${this.project}-${n}`,
      fields: { ...fields, description, created: new Date(createdAt).toISOString().replace('Z', '+0000') },
      comments: [],
      status: 'To Do',
      sent: { description, comments: [] },
      createdAt,
    };
    this.issues.set(issue.key, issue);
    return issue;
  }
}

interface SearchBody {
  jql?: string;
  fields?: string[];
  maxResults?: number;
  nextPageToken?: string;
  startAt?: number;
}
