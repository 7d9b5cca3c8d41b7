// Markdown for bench/RESULTS.md from the measurements of bench/run.mjs (no I/O here).

/** Median, min and max of a list of numbers. */
export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return { median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, min: s[0], max: s[s.length - 1] };
}

/** variant / baseline per round (both measured at the same time), then its stats. */
function ratio(pair, metric) {
  return stats(pair.samples.map((x) => x.other[metric] / x.base[metric]));
}

function findPair(group, base, other) {
  return group?.pairs.find((p) => p.base.name === base && p.other.name === other);
}

const x2 = (n) => `${n.toFixed(2)}×`;
const range = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
const int = (n) => n.toFixed(0);
const signed = (n) => (n < 0 ? `−${int(-n)}` : `+${int(n)}`);

/** The targets of SPEC §10 (issue 15), as [group, ours, baseline, metric, bound, target text]. */
const TARGETS = [
  ['loggedIn', 'express-oauth2-session', 'bare express + express-session', 'rps', 0.97, '≥ 0.97× req/s'],
  ['loggedIn', 'express-oauth2-session', 'bare express + express-session', 'cpu', 1.03, '≤ 1.03× CPU/req'],
  ['api', 'req.oauth.get', 'hand-written global fetch + bearer', 'rps', 1.15, '≥ 1.15× req/s'],
  ['anonymous', 'express-oauth2-session', 'bare express + express-session', 'rps', 0.99, '≥ 0.99× req/s'],
  ['loggedIn', 'express-oauth2-session', 'passport + passport-oauth2 (session)', 'rps', 1.1, '≥ 1.10× req/s'],
  ['loggedIn', 'express-oauth2-session', 'express-openid-connect (cookie session)', 'rps', 1.0, '≥ 1.0× req/s'],
  ['apis', 'req.oauth.api(name).get (warm per-API token)', 'req.oauth.get (with apis configured)', 'rps', 0.95, '≥ 0.95× req/s'],
];
/** SPEC §10: bytes per logged-in session with an ID token in MemoryStore. */
const MEMORY_TARGET = 1200;

function verdict(s, metric, bound) {
  const ok = (v) => (metric === 'cpu' ? v <= bound : v >= bound);
  if (ok(s.median)) return ok(s.min) && ok(s.max) ? 'met' : 'met (median; some rounds did not)';
  return ok(s.min) || ok(s.max) ? 'missed (median; some rounds met it)' : 'missed';
}

function groupTable(group) {
  const lines = [
    `### ${group.title}`,
    '',
    '| baseline → variant | baseline: req/s, CPU µs/req | variant: req/s, CPU µs/req | variant/baseline req/s: median (min–max) | variant/baseline CPU/req: median (min–max) | p99 ms baseline / variant |',
    '|---|---|---|---|---|---|',
  ];
  const med = (pair, side, metric) => stats(pair.samples.map((x) => x[side][metric])).median;
  for (const pair of group.pairs) {
    lines.push(
      `| ${pair.base.name} → **${pair.other.name}** | ${int(med(pair, 'base', 'rps'))}, ${int(med(pair, 'base', 'cpu'))} | ${int(med(pair, 'other', 'rps'))}, ${int(med(pair, 'other', 'cpu'))} | ${range(ratio(pair, 'rps'), x2)} | ${range(ratio(pair, 'cpu'), x2)} | ${int(med(pair, 'base', 'p99'))} / ${int(med(pair, 'other', 'p99'))} |`,
    );
  }
  return lines.join('\n');
}

const WORKLOAD = {
  loggedIn: 'logged-in route that does not call out',
  api: 'route making one API call to a local API',
  anonymous: 'anonymous route (never touches `req.oauth`)',
  apis: 'route calling a configured API with its own token',
};

function targetRows(groups) {
  return TARGETS.filter(([g, ours, base]) => findPair(groups[g], base, ours)).map(([g, ours, base, metric, bound, text]) => {
    const s = ratio(findPair(groups[g], base, ours), metric);
    const what = metric === 'cpu' ? 'CPU/req' : 'req/s';
    return `| ${WORKLOAD[g]}: ${ours} vs ${base} | ${range(s, x2)} ${what} | ${text} | ${verdict(s, metric, bound)} |`;
  });
}

const BARE = 'bare express + express-session';
const MARKER = "bare, login kept in express-oauth2-session's session shape";

/** Context for the targets: the noise floor (A/A) and where express-oauth2-session's cost comes from. */
function yardstickRows(groups) {
  return [
    [BARE, 'bare express + express-session (A/A: same app in both processes)', 'noise: the same app on both sides'],
    [BARE, 'bare + a middleware setting one property on req', 'yardstick: a middleware that only sets `req.extra = {…}`, vs bare'],
    [BARE, MARKER, 'yardstick: bare with its login kept as `req.session.oauth.p.default = { at, sub }` (our session shape) instead of `req.session.user = { sub }`, vs bare'],
    [MARKER, 'express-oauth2-session', 'express-oauth2-session vs that bare app with the same session shape (the middleware at run time)'],
  ]
    .filter(([base, other]) => findPair(groups.loggedIn, base, other))
    .map(([base, other, what]) => {
      const pair = findPair(groups.loggedIn, base, other);
      return `| ${what} | ${range(ratio(pair, 'rps'), x2)} req/s, ${range(ratio(pair, 'cpu'), x2)} CPU/req | – | |`;
    });
}

/** Issue 15: a storm may add at most this many token-endpoint latencies to p99. */
const STORM_TARGET = 1.2;

function stormRows(storms) {
  return storms.map((s) => {
    const counts = s.storms.map((x) => x.refreshesAtAs);
    const exact = counts.every((c) => c === 1) ? 'met' : 'missed';
    const failed = s.storms.reduce((n, x) => n + x.failed, 0);
    const added = s.addedP99 / s.tokenLatencyMs;
    const fast = added <= STORM_TARGET ? 'met' : 'missed';
    return `| refresh storm (${s.concurrency} concurrent requests, one expired session), ${s.setup} | token requests at the provider per storm: ${counts.join(', ')}; ${failed} failed requests; p99 ${signed(s.addedP99)} ms for a ${int(s.tokenLatencyMs)} ms token endpoint (${added.toFixed(2)}×) | exactly 1 token request; added p99 ≤ ${STORM_TARGET}× token latency | ${exact}; ${fast} |`;
  });
}

function stormTable(storms) {
  const lines = [
    `### 4. Refresh storm: ${storms[0].concurrency} concurrent requests on one session whose access token has expired`,
    '',
    "Each storm: expire the session's access token, then fire all requests at once (`req.oauth.get` to the local API). The token endpoint is the real provider behind a proxy that adds a fixed delay; token requests are counted at the provider.",
    '',
    `| setup | token requests at the provider, per storm | failed requests | token endpoint latency (ms, median) | p99 with a valid token (ms, median of ${storms[0].storms.length} bursts) | p99 in the storm (ms, median of ${storms[0].storms.length} storms) | added p99 (ms) | added p99 / token latency |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const s of storms) {
    const failed = s.storms.reduce((n, x) => n + x.failed, 0);
    lines.push(
      `| ${s.setup} | ${s.storms.map((x) => x.refreshesAtAs).join(', ')} | ${failed} | ${int(s.tokenLatencyMs)} | ${int(s.validP99)} | ${int(s.stormP99)} | ${signed(s.addedP99)} | ${(s.addedP99 / s.tokenLatencyMs).toFixed(2)} |`,
    );
  }
  return lines.join('\n');
}

function memoryTable(m) {
  return [
    `### 5. Memory per logged-in session (MemoryStore, ${m.sessions.toLocaleString('en')} sessions, heapUsed after GC)`,
    '',
    '| what | bytes per session | stored JSON: session + token record (chars) | target |',
    '|---|---|---|---|',
    `| express-oauth2-session: session with login marker + token record (opaque access and refresh tokens) with the ID token's verified claims that a refreshed one is checked against (\`iss\`, \`sub\`, \`nonce\`), not the ID token itself | ${int(m.eosBytes)} | ${m.sessionJson} + ${m.recordJson} | ≤ ${MEMORY_TARGET} |`,
    `| the same with the raw ${m.idTokenChars}-char ID token kept, as for a provider with an end-session endpoint (\`id_token_hint\` at logout) | ${int(m.eosRawIdTokenBytes)} | ${m.sessionJson} + ${m.rawRecordJson} | – |`,
    `| the same without an ID token (\`scope\` without \`openid\`) | ${int(m.eosNoIdTokenBytes)} | – | – |`,
    `| the first stored format (before issue 15: raw ID token, long keys, \`tokenType\`, \`issuedAt\`, the cookie's \`originalMaxAge\`), still read | ${int(m.firstFormatBytes)} | – | – |`,
    `| bare express-session with \`{ user: { sub } }\` | ${int(m.bareBytes)} | – | baseline |`,
  ].join('\n');
}

/** The summary row for memory. */
function memoryRow(m) {
  return `| memory per idle logged-in session with an ID token in MemoryStore (session + token record) | ${int(m.eosBytes)} bytes (${int(m.eosRawIdTokenBytes)} with the raw ID token kept for \`id_token_hint\`; first format ${int(m.firstFormatBytes)}) | ≤ ${MEMORY_TARGET} bytes | ${m.eosBytes <= MEMORY_TARGET ? 'met' : 'missed'} |`;
}

const NOTES = [
  'How a pair is measured: two server processes (bench/server.ts), each holding every variant as an app on its own port, both pinned to core 0; one serves the baseline and the other the variant AT THE SAME TIME, each under its own autocannon (50 connections, own process, pinned to core 1 with the local API). Whatever else happens on the machine hits both alike, and the kernel gives both the same share of core 0, so the req/s ratio is the inverse of the CPU cost ratio. Roles swap every round, so a difference between the two processes cancels out; warm-up runs both roles. Absolute req/s are therefore those of half a core each.',
  'Why not one variant after the other: on this 2-core virtual machine the CPU time per request of the same code in the same process drifted by up to ±20 % from one 5-second window to the next (host CPU steal), far more than the differences measured here; run simultaneously, the A/A pair (the same app in both processes) stays within a few per cent per round.',
  "CPU µs/req is the server process's user+system CPU (`process.cpuUsage()` before and after the round, read over IPC) divided by the requests it served. Ratios are per round (variant / baseline of the same round); tables show the median and the spread over rounds.",
  'Sessions for the authenticated workloads come from real logins against the embedded oidc-provider (its login and consent pages, driven without a browser by `authorizeWithoutBrowser`): express-oauth2-session, passport + passport-oauth2 (PKCE + state, session-backed; `serializeUser` keeps the `sub`, `deserializeUser` rebuilds `{ sub }`) and express-openid-connect (its encrypted `appSession` cookie). Bare express-session logs in through a route that sets `req.session.user = { sub }`. express-oauth2-session is loaded from its built `dist/` (tsc output, what npm installs; `npm run bench` builds it first) through a link in bench/node_modules; tsx compiles only the bench scripts (with esbuild keepNames, which would otherwise wrap every closure the library makes per request).',
  'Yardsticks in section 1: "bare + 2 no-op middleware layers" (Express\'s routing cost per layer; express-oauth2-session adds two on the logged-in route, `oauthMiddleware` and `requireAuth()`), "bare + a middleware setting one property on req" (what attaching anything to `req` costs), and "bare, login kept in express-oauth2-session\'s session shape" (the bare app writing `req.session.oauth = { p: { default: { at, sub } } }` instead of `req.session.user = { sub }`). The pair from that last app to express-oauth2-session is the middleware\'s own run-time cost with the session shape factored out.',
  "Where the cost was, and what changed on 2026-12-02 (found with CPU profiles of the loaded server taken over the inspector for exactly one load window, per-request µs per function, and by pairing ablated variants in this same harness): (1) the deadline wrapper on express-session's own store calls kept pending calls in a shared `Set` swept by an interval; that cost ~10 % of a logged-in request's CPU (not in its own functions: the whole request got slower, a garbage-collector effect), where a Node timer per call costs ~0 %; it now uses a timer per call, and leaves the methods of express-session's in-process MemoryStore unwrapped (a map in this process cannot hang). (2) `req.oauth` was cached in a `WeakMap` keyed by the request: ~20 % of a logged-in request's CPU (every entry an ephemeron for the collector); it is now an own property written on first access, which measured the same as no cache at all. (3) API answers were wrapped as `new Response(arrayBuffer)`, whose web-stream body machinery cost more than undici's request itself; small answers are now a `BufferedResponse` (a `Response` subclass reading `json()`/`text()` from the bytes; lib/client/buffered-response.ts), and the bearer path builds plain header objects instead of copying `Headers` twice.",
  "Fixed in the middleware since the first version: it no longer reads `req.path` (Express's getter, about 3 µs): it takes the path from `req.url` itself (`pathOf`, lib/http/respond.ts) and returns `next()` at once when that path is not one of its routes. It no longer writes `req.oauth` on every request: a getter on the app's request prototype builds the client on first access, so a request that never touches `req.oauth` costs no write and no allocation (`installLazyClient`, lib/session/host-patches.ts). Plain Connect requests, whose prototype is Node's shared `IncomingMessage.prototype`, still get the property per request.",
  "What remains of the logged-in gap to bare: two router layers (`oauthMiddleware`, `requireAuth()`; see the no-op-layers yardstick), building the client on first access (two small objects and the `oauth` property on `req`) and the login-marker lookup; express-session's own work on the session shape (`{ oauth: { p: { default: { at, sub } } } }` against `{ user: { sub } }`: parse, hash twice, serialize on touch) is the marker yardstick above. The marker holds only `at` and `sub` for a login whose ID token has no `acr`/`auth_time` (checked on the real login the bench does).",
  'Refresh storms: every request of a storm waits for the one refresh. In one process that wait overlaps with the queue of 200 requests the server is working through, so the added p99 lies between about zero and one token-endpoint round trip. With Redis, waiters in the other processes are woken by a pub/sub message when the lock holder finishes (polling only as a 250 ms fallback; `npm run bench:wakeup` measures the wakeup itself) and then re-read the record from Redis; the baseline p99 of a 200-request burst on 4 processes sharing 2 cores is itself 200–300 ms, so single storms swing by tens of milliseconds.',
  "Memory: two real logins are done first (cookie `maxAge` one day, scope `openid profile email`), one against the provider configured without its end-session endpoint (the token record keeps the ID token's `iss`, `sub`, `nonce`) and one with it (the record keeps the raw ID token for `id_token_hint`); each stored session and token record is cloned 10 000 times with fresh session ids and fresh token and nonce values of the same lengths (token record written with `writeRecord`, as the middleware does). The first-format row writes the pre-issue-15 record shape by hand with the same values. MemoryStore keeps each value as a JSON string, so the stored characters are most of the cost; the rest is the two keys (`<sid>` and `<sid>:oauth:<provider>`) and their table entries.",
];

/** The whole RESULTS.md. */
export function renderResults({ settings, taskset, groups, extras, micro, inServer, date, node, notes = [] }) {
  const summary = [...targetRows(groups), ...yardstickRows(groups), ...(extras.storms ? stormRows(extras.storms) : [])];
  if (extras.memory) summary.push(memoryRow(extras.memory));
  return [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench${settings.quick ? ' -- --quick' : ''}\` on ${date} (${node}, ${settings.rounds} rounds × ${settings.seconds} s after ${settings.warmup} s warm-up per variant, ${settings.connections} connections${taskset ? '; server pinned to core 0, load generator to core 1' : ''}).`,
    '',
    '## Summary',
    '',
    '<!-- summary:start (the block BENCHMARKS.md shows) -->',
    '| workload | result: median (min–max over rounds) | target | |',
    '|---|---|---|---|',
    ...summary,
    `| time inside \`oauthMiddleware\` per request, in the running server | ${(inServer.loggedIn / 1000).toFixed(1)} µs logged in, ${(inServer.anonymous / 1000).toFixed(1)} µs anonymous (the same function on plain objects, no HTTP: ${int(micro.loggedIn)} / ${int(micro.anonymous)} ns) | – | |`,
    '<!-- summary:end -->',
    '',
    '## Details',
    '',
    ...Object.values(groups).flatMap((g) => [groupTable(g), '']),
    ...(extras.storms ? [stormTable(extras.storms), ''] : []),
    ...(extras.memory ? [memoryTable(extras.memory), ''] : []),
    '### Time inside the middleware function',
    '',
    '| where | logged-in request | anonymous request |',
    '|---|---|---|',
    `| in the running server: \`process.hrtime\` around \`oauthMiddleware\` until it calls \`next()\` (median of three ${Math.min(settings.seconds, 3)} s loads, server alone on core 0) | ${(inServer.loggedIn / 1000).toFixed(1)} µs | ${(inServer.anonymous / 1000).toFixed(1)} µs |`,
    `| the same function on plain objects, no HTTP (bench/micro.ts, best of 5 × 1 000 000 calls) | ${int(micro.loggedIn)} ns | ${int(micro.anonymous)} ns |`,
    '',
    '## Notes',
    '',
    ...[...NOTES, ...notes].map((n) => `- ${n}`),
    '',
  ].join('\n');
}
