// The local API the req.oauth.get / fetch scenarios call: answers a small JSON body to any bearer.
import http from 'node:http';
const server = http.createServer((req, res) => {
  const body = JSON.stringify({ ok: true, items: [1, 2, 3], auth: Boolean(req.headers.authorization) });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => process.send?.({ ready: { url: `http://127.0.0.1:${server.address().port}` } }));
