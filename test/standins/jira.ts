// A local stand-in for the Jira REST API v2 endpoints Whistle uses: create issue, search by JQL
// (labels only), comment, list and apply transitions. Basic auth (email:API token) is checked.
// It records every request; `failNext` simulates an outage.
import Fastify, { type FastifyInstance } from 'fastify';

export interface JiraIssue {
  id: string;
  key: string;
  fields: { summary: string; description: string; labels: string[]; project: { key: string }; issuetype: { name: string } };
  comments: string[];
  status: string;
}

export interface JiraCall {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

const TRANSITIONS = [
  { id: '11', name: 'To Do', to: 'To Do' },
  { id: '21', name: 'In Progress', to: 'In Progress' },
  { id: '31', name: 'Done', to: 'Done' },
];

export class JiraStandin {
  readonly issues = new Map<string, JiraIssue>();
  readonly calls: JiraCall[] = [];
  private app: FastifyInstance | null = null;
  private failures = { remaining: 0, status: 503 };
  url = '';

  constructor(
    readonly email: string,
    readonly apiToken: string,
    readonly project = 'OPS',
  ) {}

  failNext(n: number, status = 503): void {
    this.failures = { remaining: n, status };
  }

  async start(): Promise<string> {
    const app = Fastify({ logger: false });
    const expected = `Basic ${Buffer.from(`${this.email}:${this.apiToken}`).toString('base64')}`;
    app.addHook('onRequest', async (req, reply) => {
      if (this.failures.remaining > 0) {
        this.failures.remaining--;
        this.calls.push({ method: req.method, path: req.url, status: this.failures.status, body: null });
        return reply.code(this.failures.status).send({ errorMessages: ['service unavailable'] });
      }
      if (req.headers.authorization !== expected) {
        this.calls.push({ method: req.method, path: req.url, status: 401, body: null });
        return reply.code(401).send({ errorMessages: ['You are not authenticated. Authentication required to perform this operation.'] });
      }
    });
    app.addHook('preHandler', async (req) => {
      this.calls.push({ method: req.method, path: req.url, status: 200, body: req.body ?? null });
    });

    app.post<{ Body: { fields?: Partial<JiraIssue['fields']> } }>('/rest/api/2/issue', async (req, reply) => {
      const f = req.body?.fields;
      const errors: Record<string, string> = {};
      if (!f?.summary) errors.summary = 'You must specify a summary of the issue.';
      if (f?.project?.key !== this.project) errors.project = 'valid project is required';
      if (!f?.issuetype?.name) errors.issuetype = 'valid issue type is required';
      if (Object.keys(errors).length > 0) return reply.code(400).send({ errorMessages: [], errors });
      const n = this.issues.size + 1;
      const issue: JiraIssue = {
        id: String(10_000 + n),
        key: `${this.project}-${n}`,
        fields: { summary: f!.summary!, description: f!.description ?? '', labels: f!.labels ?? [], project: f!.project!, issuetype: f!.issuetype! },
        comments: [],
        status: 'To Do',
      };
      this.issues.set(issue.key, issue);
      return reply.code(201).send({ id: issue.id, key: issue.key, self: `${this.url}/rest/api/2/issue/${issue.id}` });
    });

    app.post<{ Body: { jql?: string; maxResults?: number } }>('/rest/api/2/search', async (req, reply) => {
      const m = /^labels\s*=\s*"([^"]+)"$/.exec(req.body?.jql?.trim() ?? '');
      if (!m) return reply.code(400).send({ errorMessages: ['stand-in supports only: labels = "<label>"'] });
      const issues = [...this.issues.values()].filter((i) => i.fields.labels.includes(m[1]!)).slice(0, req.body?.maxResults ?? 50);
      return { startAt: 0, maxResults: req.body?.maxResults ?? 50, total: issues.length, issues: issues.map((i) => ({ id: i.id, key: i.key })) };
    });

    app.post<{ Params: { key: string }; Body: { body?: string } }>('/rest/api/2/issue/:key/comment', async (req, reply) => {
      const issue = this.issues.get(req.params.key);
      if (!issue) return reply.code(404).send({ errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
      if (!req.body?.body) return reply.code(400).send({ errorMessages: [], errors: { comment: 'Comment body can not be empty!' } });
      issue.comments.push(req.body.body);
      return reply.code(201).send({ id: String(issue.comments.length), body: req.body.body });
    });

    app.get<{ Params: { key: string } }>('/rest/api/2/issue/:key/transitions', async (req, reply) => {
      if (!this.issues.has(req.params.key)) return reply.code(404).send({ errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
      return { expand: 'transitions', transitions: TRANSITIONS.map(({ id, name, to }) => ({ id, name, to: { name: to } })) };
    });

    app.post<{ Params: { key: string }; Body: { transition?: { id?: string } } }>('/rest/api/2/issue/:key/transitions', async (req, reply) => {
      const issue = this.issues.get(req.params.key);
      if (!issue) return reply.code(404).send({ errorMessages: ['Issue does not exist or you do not have permission to see it.'] });
      const t = TRANSITIONS.find((x) => x.id === req.body?.transition?.id);
      if (!t) return reply.code(400).send({ errorMessages: ['Transition id is not valid for this issue.'] });
      issue.status = t.to;
      return reply.code(204).send();
    });

    this.app = app;
    this.url = await app.listen({ host: '127.0.0.1', port: 0 });
    return this.url;
  }

  async stop(): Promise<void> {
    await this.app?.close();
    this.app = null;
  }
}
