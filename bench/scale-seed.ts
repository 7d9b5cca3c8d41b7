// Seeding for the scale run: clone one real login's session and token record (read back from Redis,
// as the package wrote them) under new session ids, through connect-redis and the package's own
// writeRecord, each clone with its own access and refresh token.
import { createHmac, randomBytes } from 'node:crypto';
import type { RedisStore } from 'connect-redis';
import type { SessionData } from 'express-session';
import { recordKey, writeRecord, type CookieLike, type TokenRecord } from '../lib/session/token-record';
import type { NodeRedisClient } from '../test/support/redis-clients';

export const SESSION_SECRET = 'bench-session-secret'; // storm-worker.ts's
const BATCH = 500;

export interface LoginShape {
  session: SessionData;
  record: { cookie: CookieLike; oauthTokens: TokenRecord };
}

const promisify = <T>(run: (cb: (err: unknown, value?: T) => void) => void) => new Promise<T | undefined>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value))));

/** express-session's signed cookie for `sid` (cookie-signature's format). */
export function sessionCookie(sid: string): string {
  const mac = createHmac('sha256', SESSION_SECRET).update(sid).digest('base64').replace(/=+$/, '');
  return `connect.sid=${encodeURIComponent(`s:${sid}.${mac}`)}`;
}

/** The session and token record of the login whose cookie is `cookie`, as stored. */
export async function readLoginShape(store: RedisStore, cookie: string): Promise<LoginShape> {
  const signed = decodeURIComponent(cookie.slice('connect.sid='.length));
  const sid = signed.slice(2, signed.lastIndexOf('.'));
  const session = await promisify<SessionData>((cb) => store.get(sid, cb));
  const record = (await promisify<unknown>((cb) => store.get(recordKey(sid, 'default'), cb))) as LoginShape['record'] | undefined;
  if (!session || !record?.oauthTokens) throw new Error('the login left no session or token record in Redis');
  return { session, record };
}

const like = (s: string | undefined) =>
  randomBytes(Math.ceil(((s?.length ?? 43) * 3) / 4))
    .toString('base64url')
    .slice(0, s?.length ?? 43);

/** Write `count` logged-in sessions whose access tokens expire at `expiresAt`; their session ids. */
export async function seedSessions(store: RedisStore, shape: LoginShape, count: number, expiresAt: number): Promise<string[]> {
  const sids: string[] = [];
  const { tokens } = shape.record.oauthTokens;
  for (let done = 0; done < count; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - done) }, () => randomBytes(24).toString('base64url'));
    await Promise.all(
      batch.map(async (sid) => {
        await promisify((cb) => store.set(sid, shape.session, cb));
        const record: TokenRecord = { v: 1, tokens: { ...tokens, accessToken: like(tokens.accessToken), refreshToken: like(tokens.refreshToken), expiresAt } };
        await writeRecord(store, recordKey(sid, 'default'), record, shape.record.cookie, 10_000);
      }),
    );
    sids.push(...batch);
  }
  return sids;
}

/** Redis memory: used_memory now, and MEMORY USAGE / STRLEN averaged over a sample of sessions. */
export async function usedMemory(client: NodeRedisClient): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

export async function sampleKeyBytes(client: NodeRedisClient, sids: string[], sample = 200) {
  const picked = Array.from({ length: Math.min(sample, sids.length) }, (_, i) => sids[Math.floor((i * sids.length) / sample)] as string);
  const sum = async (key: (sid: string) => string, measure: (k: string) => Promise<number | null>) =>
    (await Promise.all(picked.map(async (sid) => Number(await measure(key(sid)))))).reduce((a, b) => a + b, 0) / picked.length;
  const session = (sid: string) => `sess:${sid}`;
  const record = (sid: string) => `sess:${recordKey(sid, 'default')}`;
  return {
    memoryUsageSession: await sum(session, (k) => client.memoryUsage(k)),
    memoryUsageRecord: await sum(record, (k) => client.memoryUsage(k)),
    strlenSession: await sum(session, (k) => client.strLen(k)),
    strlenRecord: await sum(record, (k) => client.strLen(k)),
  };
}
