// Load for the scale run: one autocannon instance per app process, sharing one cookie picker. Before
// `expireAt` every request uses a random seeded session; from then on every other request goes to
// the next expiring session, each expiring session `repeat` times in a row (so the processes race
// on its refresh), until all were requested; then random sessions again for `tailMs`.
import autocannon, { type Instance, type Result } from 'autocannon';

export interface LoadPlan {
  urls: string[];
  connections: number;
  cookies: string[];
  expiring: string[];
  expireAt: number;
  repeat: number;
  tailMs: number;
  maxSeconds: number;
}

export interface LoadReport {
  requests: number;
  seconds: number;
  throughput: number;
  failed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p99: number;
  p99AfterExpiry: number;
  expiringRequested: number;
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)] ?? 0;

export function runLoad(plan: LoadPlan): Promise<LoadReport> {
  const { cookies, expiring, expireAt, repeat } = plan;
  const total = expiring.length * repeat;
  let cursor = 0;
  let flip = false;
  let finishedAt: number | undefined;
  const pick = (): string => {
    if (cursor < total && Date.now() >= expireAt && (flip = !flip)) {
      const cookie = expiring[Math.floor(cursor / repeat)] as string;
      cursor += 1;
      if (cursor === total) finishedAt = Date.now();
      return cookie;
    }
    return cookies[Math.floor(Math.random() * cookies.length)] as string;
  };
  const all: number[] = [];
  const afterExpiry: number[] = [];
  const started = Date.now();
  const perInstance = Math.max(1, Math.round(plan.connections / plan.urls.length));
  const instances: Instance[] = [];
  const results = plan.urls.map(
    (url) =>
      new Promise<Result>((resolve) => {
        const instance = autocannon({
          url,
          connections: perInstance,
          duration: plan.maxSeconds,
          timeout: 10,
          requests: [{ method: 'GET', path: '/api', setupRequest: (req) => ({ ...req, headers: { ...req.headers, cookie: pick() } }) }],
        });
        instance.on('response', (_client, _status, _bytes, ms) => (Date.now() >= expireAt ? afterExpiry : all).push(ms));
        instance.on('done', resolve);
        instances.push(instance);
      }),
  );
  const watch = setInterval(() => {
    if (finishedAt !== undefined && Date.now() - finishedAt >= plan.tailMs) instances.forEach((i) => i.stop());
  }, 100);
  return Promise.all(results).then((done) => {
    clearInterval(watch);
    const seconds = (Date.now() - started) / 1000;
    const sum = (f: (r: Result) => number) => done.reduce((n, r) => n + f(r), 0);
    const requests = sum((r) => r.requests.total);
    const [non2xx, errors, timeouts] = [sum((r) => r.non2xx), sum((r) => r.errors), sum((r) => r.timeouts)];
    return {
      requests,
      seconds,
      throughput: requests / seconds,
      failed: non2xx + errors + timeouts,
      non2xx,
      errors,
      timeouts,
      p99: p99([...all, ...afterExpiry]),
      p99AfterExpiry: p99(afterExpiry),
      expiringRequested: Math.min(expiring.length, Math.ceil(cursor / repeat)),
    };
  });
}
