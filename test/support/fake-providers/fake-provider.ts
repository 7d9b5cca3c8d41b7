// A local server that speaks one real provider's wire format (status, content type, body fields),
// for preset quirks a real oidc-provider does not have. /authorize redirects straight back with a
// fresh code (no UI); the token path and every other path answer through the test's handlers;
// every request is recorded. Provider-specific handlers: github.ts, stackexchange.ts, google.ts.
import http from 'node:http';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  form: URLSearchParams;
}

export interface Reply {
  status?: number;
  type?: string;
  body: string | object;
}

/** Handlers get the request and everything recorded before it (e.g. the /authorize scope). */
export type Handler = (req: RecordedRequest, log: readonly RecordedRequest[]) => Reply | 'destroy';

export interface FakeProvider {
  url: string;
  tokenUrl: string;
  requests: RecordedRequest[];
  tokenRequests(): RecordedRequest[];
  apiRequests(): RecordedRequest[];
  stop(): Promise<void>;
}

export interface FakeHandlers {
  /** Default `/token`. */
  tokenPath?: string;
  token: Handler;
  api?: Handler;
}

export async function startFakeProvider(handlers: FakeHandlers): Promise<FakeProvider> {
  const tokenPath = handlers.tokenPath ?? '/token';
  const requests: RecordedRequest[] = [];
  let codes = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, form: new URLSearchParams(raw) };
      const earlier = [...requests];
      requests.push(recorded);
      if (url.pathname === '/authorize') {
        codes += 1;
        const back = new URL(url.searchParams.get('redirect_uri') as string);
        back.searchParams.set('code', `code-${codes}`);
        back.searchParams.set('state', url.searchParams.get('state') as string);
        res.writeHead(302, { location: back.toString() }).end();
        return;
      }
      const handler = url.pathname === tokenPath ? handlers.token : handlers.api;
      const reply: Reply | 'destroy' = handler ? handler(recorded, earlier) : { status: 404, body: { error: 'not_found' } };
      if (reply === 'destroy') {
        req.socket.destroy();
        return;
      }
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': reply.type ?? 'application/json; charset=utf-8' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    tokenUrl: `${url}${tokenPath}`,
    requests,
    tokenRequests: () => requests.filter((r) => r.path === tokenPath),
    apiRequests: () => requests.filter((r) => r.path !== tokenPath && r.path !== '/authorize'),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Where a preset's endpoints point when tested against a fake: the quirks stay, the hosts change. */
export function pointAt(fake: FakeProvider) {
  return {
    authorizationUrl: `${fake.url}/authorize`,
    tokenUrl: fake.tokenUrl,
    apiBaseUrl: fake.url,
    allowedOrigins: [fake.url],
    issuer: undefined,
    jwksUri: undefined,
    revocationUrl: undefined,
  };
}

/** The codes the fake's /authorize handed out, each usable once (as real providers do). */
export function codeChecker() {
  const used = new Set<string>();
  return (code: string | null, log: readonly RecordedRequest[]): boolean => {
    const issued = log.filter((r) => r.path === '/authorize').length;
    const n = /^code-(\d+)$/.exec(code ?? '')?.[1];
    if (!n || Number(n) > issued || used.has(code as string)) return false;
    used.add(code as string);
    return true;
  };
}

/** The scope the last /authorize request asked for. */
export function lastAuthorizeScope(log: readonly RecordedRequest[]): string[] {
  const authorize = log.filter((r) => r.path === '/authorize').at(-1);
  return (authorize?.query.get('scope') ?? '').split(' ').filter(Boolean);
}
