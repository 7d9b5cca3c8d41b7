// The token endpoint of the scale run: refresh_token grants are answered here (new random tokens,
// each refresh token accepted ONCE, as a rotating provider does; a reuse answers invalid_grant and
// is counted); any other grant (the one real login) is forwarded to the real provider.
// `GET /__stats` → { refreshCalls, reused }. Forked: `node bench/scale-token-endpoint.mjs <json: { upstream }>`.
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const { upstream } = JSON.parse(process.argv[2] ?? '{}');
const used = new Set();
let refreshCalls = 0;
let reused = 0;

async function forward(body, req, res) {
  const headers = { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  const answer = await fetch(upstream, { method: 'POST', headers, body });
  res.writeHead(answer.status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(Buffer.from(await answer.arrayBuffer()));
}

function refresh(params, res) {
  refreshCalls += 1;
  const token = params.get('refresh_token') ?? '';
  const json = (status, body) => res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  if (used.has(token)) {
    reused += 1;
    return json(400, { error: 'invalid_grant', error_description: 'refresh token already used' });
  }
  used.add(token);
  const fresh = () => randomBytes(32).toString('base64url');
  return json(200, { access_token: fresh(), token_type: 'Bearer', expires_in: 3600, refresh_token: fresh(), scope: 'openid' });
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/__stats') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ refreshCalls, reused }));
  if (req.url !== '/token' || req.method !== 'POST') return void res.writeHead(404).end();
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = Buffer.concat(chunks);
  const params = new URLSearchParams(body.toString());
  if (params.get('grant_type') === 'refresh_token') return refresh(params, res);
  return forward(body, req, res).catch(() => res.writeHead(502).end());
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send?.({ ready: { url: `http://127.0.0.1:${server.address().port}` } }));
