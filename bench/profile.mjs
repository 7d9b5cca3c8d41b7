#!/usr/bin/env node
// `npm run bench:profile -- <app>:<path> [<app>:<path> ...]`: where a request's CPU goes. Starts the
// provider, the local API and ONE bench server (bench/server.ts, the built dist/ as in `npm run
// bench`), then for each variant takes a CPU profile over the inspector for exactly one load window
// (autocannon, 50 connections) and prints µs per request by package and by function, each variant
// against the first. Profiles are written to bench/.results/<app>_<path>.cpuprofile (open them in
// Chrome DevTools). Example: `npm run bench:profile -- bare:/protected eos:/protected`.
// Environment: BENCH_SECONDS (6) per window; BENCH_TOP (30) functions listed.
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePeers, freePort, here, load, root, start, startProvider, useBuiltPackage } from './harness.mjs';

const out = path.join(here, '.results');
const variants = process.argv.slice(2).map((spec) => ({ app: spec.split(':')[0], path: spec.slice(spec.indexOf(':') + 1) }));
if (variants.length === 0) throw new Error('usage: npm run bench:profile -- bare:/protected eos:/protected');
const seconds = Number(process.env.BENCH_SECONDS ?? 6);

const ask = (child, msg, key) =>
  new Promise((resolve) => {
    const listener = (m) => m[key] !== undefined && (child.off('message', listener), resolve(m[key]));
    child.on('message', listener);
    child.send(msg);
  });

ensurePeers();
useBuiltPackage();
const ports = { eos: await freePort(), passport: await freePort(), openidConnect: await freePort() };
const provider = await startProvider(Object.values(ports).map((p) => `http://127.0.0.1:${p}/callback`));
const api = await start('api-server.mjs', [], { tsx: false, core: 1 });
// As in npm run bench: the server on core 0, the load generator on core 1 (where taskset exists).
const { child: server, ready: apps } = await start('server.ts', [JSON.stringify({ apiUrl: api.ready.url, apiToken: 'hand-set-token', issuer: provider.issuer, ports })], { core: 0 });
const run = (v, secs) => load(`${apps[v.app].url}${v.path}`, apps[v.app].cookie ?? '', secs, 50);

/** µs per request of a profile's self time, by function and by package. */
function perRequest(profile, requests) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
  const fn = new Map();
  const pkg = new Map();
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  profile.samples.forEach((id, i) => {
    const cf = nodes.get(id);
    const us = (profile.timeDeltas[i] ?? 0) / requests;
    const file = cf.url.replace(/^file:\/\//, '').replace(`${root}/`, '');
    add(fn, `${cf.functionName || '(anonymous)'} ${file.replace(/.*node_modules\//, '')}:${cf.lineNumber + 1}`, us);
    const where = file.includes('node_modules/')
      ? file.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
      : file.startsWith('dist/')
        ? 'express-oauth2-session'
        : file.startsWith('node:')
          ? 'node'
          : file || cf.functionName;
    add(pkg, where, us);
  });
  return { fn, pkg };
}

function table(title, base, other, top) {
  const keys = [...new Set([...base.keys(), ...other.keys()])];
  const rows = keys.map((k) => [k, base.get(k) ?? 0, other.get(k) ?? 0]).sort((a, b) => Math.abs(b[2] - b[1]) - Math.abs(a[2] - a[1]));
  console.log(`\n${title}\n${'base µs'.padStart(9)} ${'µs'.padStart(9)} ${'Δ'.padStart(9)}`);
  for (const [k, a, b] of rows.slice(0, top)) console.log(`${a.toFixed(2).padStart(9)} ${b.toFixed(2).padStart(9)} ${(b - a).toFixed(2).padStart(9)}  ${k}`);
}

mkdirSync(out, { recursive: true });
for (const v of variants) await run(v, 2); // warm-up
const results = [];
for (const v of variants) {
  await ask(server, 'profile-start', 'profiling');
  const { requests } = await run(v, seconds);
  const file = path.join(out, `${v.app}${v.path.replace(/\W/g, '_')}.cpuprofile`);
  await ask(server, `profile-stop:${file}`, 'profiled');
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const total = profile.timeDeltas.reduce((a, b) => a + b, 0) / requests;
  console.log(`${v.app}${v.path}: ${requests} requests, ${total.toFixed(1)} µs of samples per request (idle included) → ${file}`);
  results.push({ v, ...perRequest(profile, requests) });
}
const [first, ...rest] = results;
for (const r of rest) {
  table(`${r.v.app}${r.v.path} against ${first.v.app}${first.v.path}, by package (µs per request)`, first.pkg, r.pkg, 15);
  table('by function', first.fn, r.fn, Number(process.env.BENCH_TOP ?? 30));
}
process.exit(0);
