#!/usr/bin/env node
// The test authorization servers of one jest worker, in one long-lived process (test/support/jest-global-setup.ts
// starts one per worker). Every startAuthorizationServer() of a test file still gets its own
// oidc-provider instance, with the options it asked for (clients, TTLs, PAR, DPoP nonces...), its own
// port, in-memory state, request log, fault queue and signing key; only the process is shared.
// Spawning node and importing oidc-provider was most of a test file's setup; RSA keys are made
// ahead, in the background, for the same reason.
//
// Control API on a loopback port, announced as one stdout line `PROVIDER_HOST_READY <url>`:
//   POST /start        JSON startProvider() options -> 200 with provider-cli's ready info
//   POST /stop/<port>  -> 204 once that provider's server is closed
// Exits when its stdin closes (the jest process died) or on SIGTERM.
import crypto from 'node:crypto';
import http from 'node:http';
import { promisify } from 'node:util';
import { startProvider } from '../../lib/testing/provider.mjs';

export const HOST_READY_MARKER = 'PROVIDER_HOST_READY';

const generateKeyPair = promisify(crypto.generateKeyPair);
const KEYS_AHEAD = 2;
const keys = [];
function refillKeys() {
  while (keys.length < KEYS_AHEAD) {
    const key = generateKeyPair('rsa', { modulusLength: 2048 }).then(({ privateKey }) => privateKey);
    key.catch(() => {}); // reported when used
    keys.push(key);
  }
}
function nextKey() {
  const key = keys.shift();
  refillKeys();
  return key;
}
refillKeys();

/** port -> running provider */
const providers = new Map();

function readJson(req) {
  return new Promise((resolve, reject) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      try {
        resolve(raw ? JSON.parse(raw) : {});
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

function send(res, status, body) {
  res.writeHead(status, body === undefined ? {} : { 'content-type': 'application/json' });
  res.end(body === undefined ? undefined : JSON.stringify(body));
}

const control = http.createServer(async (req, res) => {
  try {
    if (req.method === 'POST' && req.url === '/start') {
      const options = await readJson(req);
      const as = await startProvider({ ...options, signingKey: await nextKey() });
      providers.set(as.port, as);
      send(res, 200, {
        issuer: as.issuer,
        port: as.port,
        pid: process.pid,
        endpoints: as.endpoints,
        clients: as.clients.map(({ client_id: id, client_secret: secret, token_endpoint_auth_method: method, grant_types: grants }) => ({ id, secret, method, grants })),
      });
      return;
    }
    const stop = /^\/stop\/(\d+)$/.exec(req.url ?? '');
    if (req.method === 'POST' && stop) {
      const port = Number(stop[1]);
      const as = providers.get(port);
      providers.delete(port);
      await as?.stop();
      send(res, 204);
      return;
    }
    send(res, 404, { error: 'not_found' });
  } catch (err) {
    send(res, 500, { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});

let stopping = false;
async function shutdown() {
  if (stopping) return;
  stopping = true;
  control.close();
  control.closeAllConnections();
  await Promise.all([...providers.values()].map((as) => as.stop()));
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.stdin.on('end', shutdown);
process.stdin.resume();

control.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${HOST_READY_MARKER} http://127.0.0.1:${control.address().port}\n`);
});
