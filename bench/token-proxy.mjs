// A slow token endpoint for the refresh storms: forwards POST /token to the real provider after a
// fixed delay, so one refresh takes a known, noticeable time. `GET /__stats` → { ms: [...] }
// (each token call's latency as the middleware saw it); `DELETE /__stats` clears them.
// `node bench/token-proxy.mjs <json: { upstream, delayMs }>`, forked (sends { ready: { url } }).
import http from 'node:http';

const { upstream, delayMs } = JSON.parse(process.argv[2] ?? '{}');
let latencies = [];

async function forward(req, res) {
  const t0 = performance.now();
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  const headers = { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  const answer = await fetch(upstream, { method: 'POST', headers, body: Buffer.concat(chunks) });
  const body = Buffer.from(await answer.arrayBuffer());
  res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json', 'cache-control': 'no-store' }).end(body);
  latencies.push(performance.now() - t0);
}

const server = http.createServer((req, res) => {
  if (req.url === '/__stats' && req.method === 'GET') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ms: latencies }));
  if (req.url === '/__stats' && req.method === 'DELETE') {
    latencies = [];
    return void res.writeHead(204).end();
  }
  if (req.url === '/token' && req.method === 'POST') {
    forward(req, res).catch(() => res.writeHead(502).end());
    return undefined;
  }
  res.writeHead(404).end();
});
server.listen(0, '127.0.0.1', () => process.send?.({ ready: { url: `http://127.0.0.1:${server.address().port}` } }));
