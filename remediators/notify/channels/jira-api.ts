// The Jira REST calls the ticket channel makes, for each flavor:
//
//                 Jira Cloud                            Jira Data Center
//   base          /rest/api/3                           /rest/api/2
//   auth          Basic base64(email:API token)         Bearer <personal access token>
//                                                       (or Basic username:password)
//   rich text     Atlassian Document Format (adf.ts)    plain (wiki) text
//   search        POST /rest/api/3/search/jql,          POST /rest/api/2/search,
//                 paged by nextPageToken until isLast   paged by startAt until total
//
// Cloud removed /rest/api/{2,3}/search in 2025 (410 Gone, CHANGE-2046), so the flavors cannot
// share a search. Every refusal becomes a ChannelError whose message names the cause and what to
// check, and whose reason is the failure metric's label. The token is only ever in the header.
import type { FailureReason } from '../channel.ts';
import { ChannelError } from '../channel.ts';
import type { JiraChannelConfig } from '../config.ts';
import { textToAdf } from './adf.ts';

export interface FoundIssue {
  id: string;
  key: string;
  created: string;
}

/** Enough for any sane label; a label on more issues than this is a misuse, reported as such. */
const MAX_SEARCH_PAGES = 20;
const PAGE_SIZE = 50;

export class JiraApi {
  /** REST base path of the flavor: every issue, comment and transition call goes under it. */
  readonly base: string;
  private readonly url: string;
  private readonly authorization: string;

  constructor(private readonly cfg: JiraChannelConfig) {
    this.url = cfg.url.replace(/\/$/, '');
    this.base = cfg.flavor === 'cloud' ? '/rest/api/3' : '/rest/api/2';
    const user = cfg.flavor === 'cloud' ? (cfg.email ?? '') : cfg.username;
    this.authorization = user !== undefined ? `Basic ${Buffer.from(`${user}:${cfg.apiToken}`).toString('base64')}` : `Bearer ${cfg.apiToken}`;
  }

  /** A description or comment body in the flavor's rich-text form. */
  richText(text: string): unknown {
    return this.cfg.flavor === 'cloud' ? textToAdf(text) : text;
  }

  /** Every issue matching `jql` (all pages), with its creation time. */
  async search(jql: string): Promise<FoundIssue[]> {
    return this.cfg.flavor === 'cloud' ? this.searchCloud(jql) : this.searchDataCenter(jql);
  }

  private async searchCloud(jql: string): Promise<FoundIssue[]> {
    const found: FoundIssue[] = [];
    let token: string | undefined;
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      // The enhanced search returns only issue ids unless fields are asked for.
      const res = (await this.request('POST', '/rest/api/3/search/jql', { jql, fields: ['created'], maxResults: PAGE_SIZE, ...(token ? { nextPageToken: token } : {}) })) as {
        issues?: { id: string; key?: string; fields?: { created?: string } }[];
        nextPageToken?: string;
        isLast?: boolean;
      };
      found.push(...issuesOf(res.issues));
      // A token that does not move on would page forever; isLast is authoritative when present.
      if (res.isLast === true || !res.nextPageToken || res.nextPageToken === token) return found;
      token = res.nextPageToken;
    }
    throw new ChannelError(`jira: search "${jql}" matched more than ${MAX_SEARCH_PAGES * PAGE_SIZE} issues; the label should be on one`, 'rejected');
  }

  private async searchDataCenter(jql: string): Promise<FoundIssue[]> {
    const found: FoundIssue[] = [];
    for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
      const res = (await this.request('POST', '/rest/api/2/search', { jql, fields: ['created'], startAt: found.length, maxResults: PAGE_SIZE })) as {
        issues?: { id: string; key?: string; fields?: { created?: string } }[];
        total?: number;
      };
      const issues = issuesOf(res.issues);
      found.push(...issues);
      // The server may return fewer than asked (jira.search.views.default.max): go on from there.
      if (issues.length === 0 || found.length >= (res.total ?? 0)) return found;
    }
    throw new ChannelError(`jira: search "${jql}" matched more than ${MAX_SEARCH_PAGES * PAGE_SIZE} issues; the label should be on one`, 'rejected');
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: { authorization: this.authorization, accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(this.cfg.timeoutMs),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const timeout = e.name === 'TimeoutError';
      const detail = timeout ? `no answer within ${this.cfg.timeoutMs} ms` : (e.cause?.message ?? e.message);
      throw new ChannelError(`jira: ${method} ${path}: ${detail}`, timeout ? 'timeout' : /certificate|self.signed|SSL|TLS/i.test(detail) ? 'tls' : 'network');
    }
    const text = await res.text();
    if (!res.ok) throw this.refusal(method, path, res, text);
    return text ? (JSON.parse(text) as unknown) : {};
  }

  /** What Jira said, and what it most likely means for this configuration. */
  private refusal(method: string, path: string, res: Response, text: string): ChannelError {
    const said = jiraMessage(text);
    const call = `jira: ${method} ${path}: HTTP ${res.status}`;
    const cred = this.cfg.flavor === 'cloud' ? 'the account email and API token' : this.cfg.username ? 'the username and password' : 'the personal access token';
    const hint: [FailureReason, string] =
      res.status === 401
        ? ['auth', `not authenticated: Jira refused ${cred} (revoked, expired or mistyped? is flavor: ${this.cfg.flavor} right?)`]
        : res.status === 403
          ? ['forbidden', `forbidden: the account may not do this in project ${this.cfg.project} (check its project permissions)`]
          : res.status === 404
            ? ['not_found', /\/issue\/[^/]+/.test(path) ? 'the issue does not exist or the account cannot see it' : `no such endpoint at ${this.url} (is url right, and is it flavor: ${this.cfg.flavor}?)`]
            : res.status === 410
              ? ['gone', `this Jira removed ${path}${this.cfg.flavor === 'datacenter' ? ' (Jira Cloud removed /rest/api/2/search and /rest/api/3/search: a Cloud site needs flavor: cloud)' : ''}`]
              : res.status === 429
                ? ['rate_limited', `rate limited${res.headers.get('retry-after') ? ` (Retry-After ${res.headers.get('retry-after')} s)` : ''}`]
                : res.status >= 500
                  ? ['unavailable', 'Jira is unavailable']
                  : ['rejected', 'the request was refused'];
    return new ChannelError(`${call} ${hint[1]}${said ? `: ${said}` : ''}`, hint[0]);
  }
}

function issuesOf(issues: { id: string; key?: string; fields?: { created?: string } }[] | undefined): FoundIssue[] {
  return (issues ?? []).filter((i) => i.key).map((i) => ({ id: i.id, key: i.key!, created: i.fields?.created ?? '' }));
}

/** Jira's own words: `errorMessages` and field `errors` (REST), `message` (Cloud's gateway), or the text. */
function jiraMessage(text: string): string {
  try {
    const j = JSON.parse(text) as { errorMessages?: string[]; errors?: Record<string, string>; message?: string };
    const parts = [...(j.errorMessages ?? []), ...Object.entries(j.errors ?? {}).map(([k, v]) => `${k}: ${v}`), ...(j.message ? [j.message] : [])];
    if (parts.length > 0) return parts.join('; ').slice(0, 400);
  } catch {
    // not JSON: keep the text
  }
  return text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 300);
}
