// A local server that speaks one real provider's wire format (status, content type, body fields),
// for preset quirks a real oidc-provider does not have. /authorize redirects straight back with a
// code (no UI); /token and /api/* answer through the test's handlers; every request is recorded.
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

export interface FakeProvider {
  url: string;
  requests: RecordedRequest[];
  tokenRequests(): RecordedRequest[];
  stop(): Promise<void>;
}

export async function startFakeProvider(handlers: {
  token: (req: RecordedRequest) => Reply;
  api?: (req: RecordedRequest) => Reply;
}): Promise<FakeProvider> {
  const requests: RecordedRequest[] = [];
  let codes = 0;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, form: new URLSearchParams(raw) };
      requests.push(recorded);
      if (url.pathname === '/authorize') {
        codes += 1;
        const back = new URL(url.searchParams.get('redirect_uri') as string);
        back.searchParams.set('code', `code-${codes}`);
        back.searchParams.set('state', url.searchParams.get('state') as string);
        res.writeHead(302, { location: back.toString() }).end();
        return;
      }
      const handler = url.pathname === '/token' ? handlers.token : handlers.api;
      const reply: Reply = handler ? handler(recorded) : { status: 404, body: { error: 'not_found' } };
      const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status ?? 200, { 'content-type': reply.type ?? 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    requests,
    tokenRequests: () => requests.filter((r) => r.path === '/token'),
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
    tokenUrl: `${fake.url}/token`,
    apiBaseUrl: fake.url,
    allowedOrigins: [fake.url],
    issuer: undefined,
    jwksUri: undefined,
    revocationUrl: undefined,
  };
}
