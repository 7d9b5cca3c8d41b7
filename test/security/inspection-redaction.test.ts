import { inspect } from 'node:util';
import request from 'supertest';
import type { TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp } from '../support/test-app';
import { startTwoClientAs, twoClientProviders } from './helpers';

// Nothing reachable from req.oauth shows a client secret or a token: not util.inspect with
// getters, hidden properties and custom inspection off, not JSON.stringify, not a walk over every
// own key (symbols included) and getter of the object and its prototypes.
let as: TestAuthorizationServer;
beforeAll(async () => {
  as = await startTwoClientAs();
});
afterAll(() => as.stop());

/** Every string reachable through own keys (symbols too) and getters, prototypes included. */
function reachableStrings(root: unknown, maxDepth = 10): string[] {
  const seen = new Set<unknown>();
  const found: string[] = [];
  const visit = (value: unknown, depth: number) => {
    if (typeof value === 'string') found.push(value);
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || seen.has(value) || depth > maxDepth) return;
    seen.add(value);
    for (let o: object | null = value as object; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Reflect.ownKeys(o)) {
        if (typeof key === 'symbol') found.push(key.toString());
        const descriptor = Object.getOwnPropertyDescriptor(o, key);
        let child: unknown;
        try {
          child = descriptor?.get ? descriptor.get.call(value) : descriptor?.value;
        } catch {
          continue;
        }
        visit(child, depth + 1);
      }
    }
  };
  visit(root, 0);
  return found;
}

describe('inspecting req.oauth', () => {
  it('should show no client secret and no token, with a loaded token record', async () => {
    const tokens: string[] = [];
    const views: Record<string, string> = {};
    const { app } = createTestApp({
      oauth: {
        providers: twoClientProviders(as),
        onTokens: (e) => void (e.tokens && tokens.push(...[e.tokens.accessToken, e.tokens.refreshToken, e.tokens.idToken].filter((t): t is string => !!t))),
      },
      routes: (a) =>
        a.get('/inspect', async (req, res) => {
          await req.oauth.getToken(); // loads the token record into the client
          views.inspect = inspect(req.oauth, { getters: true, customInspect: false, showHidden: true, depth: 10 });
          views.json = JSON.stringify(req.oauth);
          views.symbols = Object.getOwnPropertySymbols(req.oauth).map(String).join(' ');
          views.walk = reachableStrings(req.oauth).join(' ');
          res.end();
        }),
    });
    const agent = request.agent(app);
    await login(agent, { loginPath: '/login/a' });
    await agent.get('/inspect').expect(200);

    const secrets = ['rp-basic-secret', 'rp-post-secret', ...tokens];
    expect(tokens).toHaveLength(3);
    expect(views.json).toBe('{"provider":"a","authenticated":true}');
    for (const [view, text] of Object.entries(views)) {
      expect([view, secrets.filter((s) => text.includes(s))]).toEqual([view, []]);
    }
    // The walk did run the getters: it reached the user and each provider's login path.
    expect(['alice', '/login/a', '/login/b'].map((s) => views.walk?.split(' ').includes(s))).toEqual([true, true, true]);
  });
});
