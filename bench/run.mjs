#!/usr/bin/env node
// `npm run bench [-- --quick]`: throughput and server CPU per request of express-oauth2-session
// against bare express + express-session and its peers, as ratios measured in one run; refresh
// storms; memory per session. The provider, the local API, the two servers under test (each pair
// runs simultaneously, see measurePair) and each load generator (autocannon) are separate
// processes. Writes bench/RESULTS.md.
//
// Environment: BENCH_ROUNDS (default 6: roles swap every round), BENCH_SECONDS (5), BENCH_WARMUP (3), BENCH_CONNECTIONS (50);
// --quick = 2 rounds × 2 s after 1 s. BENCH_ONLY=1,3 runs only those groups (RESULTS.md untouched).
// BENCH_ONLY=6: req.oauth.api(name).get on a warm per-API token vs req.oauth.get (issue 21).
// BENCH_ONLY=7: OpenTelemetry cost (telemetry-group.mjs), printed only.
// --render rewrites RESULTS.md from the last full run's saved measurements (after editing report.mjs).
// Both also copy RESULTS.md's summary table into BENCHMARKS.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { builtPackageEnv, children, ensurePeers, freePort, here, load, root, start, startProvider, taskset, useBuiltPackage } from './harness.mjs';
import { renderResults } from './report.mjs';

const quick = process.argv.includes('--quick');
const settings = {
  rounds: Number(process.env.BENCH_ROUNDS ?? (quick ? 2 : 6)),
  seconds: Number(process.env.BENCH_SECONDS ?? (quick ? 2 : 5)),
  warmup: Number(process.env.BENCH_WARMUP ?? (quick ? 1 : 3)),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
  quick,
};
const only = (process.env.BENCH_ONLY ?? '1,2,3,4,5').split(',');

function cpuMicros(child) {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m.cpu.user + m.cpu.system));
    child.send('cpu');
  });
}

/** Both servers' CPU time (µs), read in-process over IPC. */
const cpuOf = (servers) => Promise.all(servers.map((s) => cpuMicros(s.child)));

/**
 * One pair, measured SIMULTANEOUSLY: server process 0 serves one variant and server process 1 the
 * other, both on core 0, each under its own autocannon; host noise hits both alike. Roles swap
 * every round, so a difference between the two processes cancels out. Warm-up runs both roles.
 */
async function measurePair(servers, base, other) {
  const target = (server, v) => ({ url: `${server.ready[v.app].url}${v.path}`, cookie: v.anonymous ? '' : server.ready[v.app].cookie });
  const both = async (a, b, seconds) => {
    const before = await cpuOf(servers);
    const [ra, rb] = await Promise.all([
      load(target(servers[0], a).url, target(servers[0], a).cookie, seconds, settings.connections),
      load(target(servers[1], b).url, target(servers[1], b).cookie, seconds, settings.connections),
    ]);
    const after = await cpuOf(servers);
    for (const [v, r] of [
      [a, ra],
      [b, rb],
    ])
      if (r.non2xx || r.errors) throw new Error(`${v.name}: ${r.non2xx} non-2xx, ${r.errors} errors`);
    const sample = (r, i) => ({ rps: r.requests / r.seconds, cpu: (after[i] - before[i]) / r.requests, p99: r.p99 });
    return [sample(ra, 0), sample(rb, 1)];
  };
  await both(base, other, settings.warmup);
  await both(other, base, settings.warmup);
  const samples = [];
  for (let round = 0; round < settings.rounds; round += 1) {
    const swapped = round % 2 === 1;
    const [first, second] = await (swapped ? both(other, base, settings.seconds) : both(base, other, settings.seconds));
    samples.push(swapped ? { base: second, other: first } : { base: first, other: second });
  }
  const last = samples.map((x) => `${(x.other.cpu / x.base.cpu).toFixed(3)}`).join(' ');
  console.log(`  ${other.name} vs ${base.name}: CPU/req ratio per round ${last}`);
  return { base, other, samples };
}

async function compare(title, servers, pairs) {
  console.log(title);
  const measured = [];
  for (const [base, other] of pairs) measured.push(await measurePair(servers, base, other));
  return { title, pairs: measured };
}

function runScript(file, args = [], execArgv = []) {
  return JSON.parse(
    execFileSync(process.execPath, [...execArgv, '--import', 'tsx', path.join(here, file), ...args], {
      cwd: root,
      env: builtPackageEnv,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    }),
  );
}

/** Write RESULTS.md and copy its summary table between the bench-summary markers of BENCHMARKS.md. */
function writeResults(md) {
  writeFileSync(path.join(here, 'RESULTS.md'), md);
  const readmeFile = path.join(root, 'BENCHMARKS.md');
  const readme = readFileSync(readmeFile, 'utf8');
  const table = md.split('\n<!-- summary:start')[1]?.split('\n').slice(1).join('\n').split('\n<!-- summary:end -->')[0];
  const [before, rest] = readme.split(/(?<=<!-- bench-summary:start[^\n]*-->\n)/);
  const after = rest?.slice(rest.indexOf('<!-- bench-summary:end -->'));
  if (!table || !after?.startsWith('<!-- bench-summary:end -->')) throw new Error('BENCHMARKS.md has no bench-summary markers (or RESULTS.md no summary)');
  writeFileSync(readmeFile, `${before}${table}\n${after}`);
  console.log('wrote bench/RESULTS.md and the BENCHMARKS.md summary table');
}

// `--render`: rewrite RESULTS.md from the last full run's measurements (bench/.results/last.json).
const resultsDir = path.join(here, '.results');
if (process.argv.includes('--render')) {
  writeResults(renderResults(JSON.parse(readFileSync(path.join(resultsDir, 'last.json'), 'utf8'))));
  process.exit(0);
}

// Group 7 (OpenTelemetry cost) runs on its own servers (telemetry-group.mjs) and needs no peers.
if (only.includes('7')) {
  const { renderTelemetryGroup, telemetryGroup } = await import('./telemetry-group.mjs');
  mkdirSync(path.join(here, 'node_modules'), { recursive: true });
  useBuiltPackage();
  const table = renderTelemetryGroup(await telemetryGroup(compare));
  console.log(`\n7. OpenTelemetry: CPU per request and throughput, compared ÷ base, ${settings.rounds} rounds × ${settings.seconds} s\n\n${table}`);
  if (only.every((g) => g === '7')) process.exit(0);
}

ensurePeers();
useBuiltPackage();
const portSets = [];
for (let i = 0; i < 2; i += 1) portSets.push({ eos: await freePort(), passport: await freePort(), openidConnect: await freePort(), ...(only.includes('6') ? { eosApis: await freePort() } : {}) });
const provider = await startProvider(portSets.flatMap((ports) => Object.values(ports)).map((p) => `http://127.0.0.1:${p}/callback`));
const api = await start('api-server.mjs', [], { tsx: false, core: 1 });
const servers = [];
for (const ports of portSets) servers.push(await start('server.ts', [JSON.stringify({ apiUrl: api.ready.url, apiToken: 'hand-set-token', issuer: provider.issuer, ports })], { core: 0 }));

const V = {
  bare: { name: 'bare express + express-session', app: 'bare', path: '/protected' },
  layers: { name: 'bare + 2 no-op middleware layers', app: 'bare-layers', path: '/protected' },
  property: { name: 'bare + a middleware setting one property on req', app: 'bare-property', path: '/protected' },
  marker: { name: "bare, login kept in express-oauth2-session's session shape", app: 'bare-marker', path: '/protected' },
  eos: { name: 'express-oauth2-session', app: 'eos', path: '/protected' },
  passport: { name: 'passport + passport-oauth2 (session)', app: 'passport', path: '/protected' },
  eoc: { name: 'express-openid-connect (cookie session)', app: 'openid-connect', path: '/protected' },
  fetch: { name: 'hand-written global fetch + bearer', app: 'bare-api', path: '/api' },
  oauthGet: { name: 'req.oauth.get', app: 'eos', path: '/api' },
  bareAnonymous: { name: 'bare express + express-session', app: 'bare', path: '/public', anonymous: true },
  eosAnonymous: { name: 'express-oauth2-session', app: 'eos', path: '/public', anonymous: true },
  apisLoginGet: { name: 'req.oauth.get (with apis configured)', app: 'eos-apis', path: '/api' },
  apisApiGet: { name: 'req.oauth.api(name).get (warm per-API token)', app: 'eos-apis', path: '/api-orders' },
};

const groups = {};
if (only.includes('1')) {
  groups.loggedIn = await compare('1. Logged-in route that does not call out', servers, [
    [V.bare, { ...V.bare, name: 'bare express + express-session (A/A: same app in both processes)' }],
    [V.bare, V.layers],
    [V.bare, V.property],
    [V.bare, V.marker],
    [V.bare, V.eos],
    [V.marker, V.eos],
    [V.bare, V.passport],
    [V.bare, V.eoc],
    [V.passport, V.eos],
    [V.eoc, V.eos],
  ]);
}
if (only.includes('2')) groups.api = await compare('2. Route making one call to a local API', servers, [[V.fetch, V.oauthGet]]);
if (only.includes('6')) groups.apis = await compare('6. Route calling an API: its own warm token (api(name).get) vs the login token (get)', servers, [[V.apisLoginGet, V.apisApiGet]]);
if (only.includes('3')) groups.anonymous = await compare('3. Anonymous route (never touches req.oauth)', servers, [[V.bareAnonymous, V.eosAnonymous]]);
/** ns spent inside oauthMiddleware per request (until it calls next), in server 0 under load: median of 3 windows. */
async function middlewareTime(v) {
  const windows = [await timingWindow(v), await timingWindow(v), await timingWindow(v)];
  return windows.sort((a, b) => a - b)[1];
}

async function timingWindow(v) {
  const server = servers[0];
  server.child.send('timing-on');
  await load(`${server.ready[v.app].url}${v.path}`, v.anonymous ? '' : server.ready[v.app].cookie, Math.min(settings.seconds, 3), settings.connections);
  return new Promise((resolve) => {
    const listener = (m) => {
      if (!m.timing) return;
      server.child.off('message', listener);
      resolve(m.timing.nsPerCall);
    };
    server.child.on('message', listener);
    server.child.send('timing-off');
  });
}
const inServer = { loggedIn: await middlewareTime(V.eos), anonymous: await middlewareTime(V.eosAnonymous) };
for (const c of children) c.kill();

const extras = only.includes('4') || only.includes('5') ? runScript('extras.ts', [only.join(',')], ['--expose-gc']) : {};
const micro = runScript('micro.ts');
const measured = { settings, taskset, groups, extras, micro, inServer, date: new Date().toISOString().slice(0, 10), node: process.version };
const md = renderResults(measured);
console.log(`\n${md}`);
if (!process.env.BENCH_ONLY) {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, 'last.json'), JSON.stringify(measured));
  writeResults(md);
}
process.exit(0);
