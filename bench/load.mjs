// The load generator, in its own process: `node bench/load.mjs <json>` → prints one JSON line.
import autocannon from 'autocannon';
const { url, cookie, seconds, connections } = JSON.parse(process.argv[2]);
const result = await autocannon({ url, connections, duration: seconds, headers: cookie ? { cookie } : {} });
process.stdout.write(`${JSON.stringify({ requests: result.requests.total, non2xx: result.non2xx, errors: result.errors, seconds: result.duration, p99: result.latency.p99 })}\n`);
