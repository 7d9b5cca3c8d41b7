// Bench group 7 (`BENCH_ONLY=7 npm run bench`): what OpenTelemetry support costs per request, as
// CPU/request ratios measured in one run (run.mjs `compare`: both variants at once, roles swapped
// every round). Three pairs of server processes (bench/telemetry-server.ts), each serving the bare
// baseline, express-oauth2-session (default `telemetry`) and the same with `telemetry: false`:
//   hidden    @opentelemetry/api does not resolve (test/support/hide-otel-api.cjs): not installed
//   installed the API installed, no SDK registered: an app that never set up OpenTelemetry
//   sdk       a tracer and meter provider registered (spans recorded, dropped by the exporter)
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { children, freePort, here, root, start, startProvider } from './harness.mjs';

const MODES = ['hidden', 'installed', 'sdk'];
const hide = path.join(root, 'test/support/hide-otel-api.cjs');

/** Runs group 7 with run.mjs's `compare`; returns its measurements ({ title, pairs } per mode). */
export async function telemetryGroup(compare) {
  const ports = {};
  for (const mode of MODES) ports[mode] = [];
  for (const mode of MODES) for (let i = 0; i < 2; i += 1) ports[mode].push({ eos: await freePort(), eosOff: await freePort() });
  const redirectUris = MODES.flatMap((m) => ports[m].flatMap((p) => [p.eos, p.eosOff])).map((p) => `http://127.0.0.1:${p}/callback`);
  const provider = await startProvider(redirectUris);
  const api = await start('api-server.mjs', [], { tsx: false, core: 1 });
  const V = {
    bare: { name: 'bare express + express-session', app: 'bare', path: '/protected' },
    eos: { name: 'express-oauth2-session', app: 'eos', path: '/protected' },
    fetch: { name: 'hand-written global fetch + bearer', app: 'bare', path: '/api' },
    get: { name: 'req.oauth.get', app: 'eos', path: '/api' },
    getOff: { name: 'req.oauth.get, `telemetry: false`', app: 'eos-off', path: '/api' },
  };
  const pairs = {
    hidden: [
      [V.bare, V.eos],
      [V.fetch, V.get],
    ],
    installed: [
      [V.bare, V.eos],
      [V.fetch, V.get],
      [V.getOff, { ...V.getOff, name: 'req.oauth.get, `telemetry: false` (A/A: the noise of this measure)' }],
      [V.getOff, V.get],
    ],
    sdk: [[V.getOff, V.get]],
  };
  const measured = {};
  for (const mode of MODES) {
    const execArgv = mode === 'hidden' ? ['--require', hide] : [];
    const servers = [];
    for (const p of ports[mode]) servers.push(await start('telemetry-server.ts', [JSON.stringify({ mode, apiUrl: api.ready.url, issuer: provider.issuer, ports: p })], { core: 0, execArgv }));
    measured[mode] = await compare(
      `7. OpenTelemetry, API ${mode === 'hidden' ? 'not installed' : mode === 'installed' ? 'installed without SDK' : 'installed with an SDK recording'}`,
      servers,
      pairs[mode],
    );
    for (const s of servers) s.child.kill();
  }
  for (const c of children) c.kill();
  const micro = {};
  for (const mode of MODES) {
    const args = [...(mode === 'hidden' ? ['--require', hide] : []), path.join(here, 'telemetry-micro.mjs'), ...(mode === 'sdk' ? ['sdk'] : [])];
    micro[mode] = JSON.parse(execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' }));
  }
  return { groups: measured, micro };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2;
};
const LABEL = { hidden: 'not installed', installed: 'installed, no SDK', sdk: 'SDK recording' };

/** Markdown tables of group 7: median CPU/request and throughput ratios (other ÷ base) per pair; ns per outbound request in the wrapper. */
export function renderTelemetryGroup({ groups, micro }) {
  const lines = ['| API | base | compared | CPU/req ratio (median) | req/s ratio (median) | CPU/req ratio per round |', '|---|---|---|---|---|---|'];
  for (const [mode, group] of Object.entries(groups)) {
    for (const { base, other, samples } of group.pairs) {
      const cpu = samples.map((s) => s.other.cpu / s.base.cpu);
      const rps = median(samples.map((s) => s.other.rps / s.base.rps));
      lines.push(`| ${LABEL[mode]} | ${base.name} | ${other.name} | ${median(cpu).toFixed(3)} | ${rps.toFixed(3)} | ${cpu.map((r) => r.toFixed(2)).join(' ')} |`);
    }
  }
  lines.push('', '| API | telemetry wrapper per outbound request, `telemetry: false` | default | added |', '|---|---|---|---|');
  for (const [mode, m] of Object.entries(micro)) lines.push(`| ${LABEL[mode]} | ${m.offNs.toFixed(0)} ns | ${m.defaultNs.toFixed(0)} ns | ${(m.defaultNs - m.offNs).toFixed(0)} ns |`);
  return lines.join('\n');
}
