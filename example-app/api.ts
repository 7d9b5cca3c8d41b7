// The small protected API of the embedded setup: it accepts a bearer token only if the
// authorization server's introspection endpoint says it is active (RFC 7662).
import http from 'node:http';
import express from 'express';

const QUOTES = [
  'Simplicity is prerequisite for reliability. (Edsger W. Dijkstra)',
  'Make it work, make it right, make it fast. (Kent Beck)',
  'The best error message is the one that never shows up. (Thomas Fuchs)',
];

export interface ExampleApi {
  url: string;
  stop(): Promise<void>;
}

export async function startExampleApi(options: { introspectionUrl: string; clientId: string; clientSecret: string }): Promise<ExampleApi> {
  const basic = Buffer.from(`${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`).toString('base64');
  const app = express();
  let served = 0;
  app.get('/api/quote', async (req, res) => {
    const token = /^Bearer (\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
    const info = token
      ? ((await (
          await fetch(options.introspectionUrl, {
            method: 'POST',
            headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
          })
        ).json()) as { active?: boolean; sub?: string; exp?: number })
      : { active: false };
    if (!info.active) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"').status(401).json({ error: 'invalid_token' });
      return;
    }
    served += 1;
    res.json({ quote: QUOTES[served % QUOTES.length], for: info.sub, tokenExpiresAt: info.exp ? new Date(info.exp * 1000).toISOString() : null });
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * One of the two APIs of the "several APIs" page (`/apis`): it accepts only JWT access tokens
 * issued for its own `resource` (RFC 8707 audience), checked with the provider's signing keys, and
 * says which audience and scope the token it received carried (never the token).
 */
export async function startAudienceApi(options: { name: string; issuer: string; resource: string }): Promise<ExampleApi> {
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  const keys = createRemoteJWKSet(new URL(`${options.issuer}/jwks`));
  const app = express();
  app.get('/api/whoami', async (req, res) => {
    const token = /^Bearer (\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? '';
    try {
      const { payload } = await jwtVerify(token, keys, { issuer: options.issuer, audience: options.resource });
      res.json({ api: options.name, audience: payload.aud, scope: payload.scope ?? null, for: payload.sub });
    } catch {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"').status(401).json({ error: 'invalid_token' });
    }
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
