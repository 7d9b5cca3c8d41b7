import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { oauthErrorHandler, oauthMiddleware, requireAuth, type ProviderOptions } from 'express-oauth2-session';
import { startAuthorizationServer, type TestAuthorizationServer } from '../support/authorization-server';
import { login } from '../support/login-flow';
import { createTestApp, providerOptions, REDIRECT_URI } from '../support/test-app';
import { HTML, recordProcessWarnings } from './helpers';

// Issue 23, item 2: what is accepted at startup but broken on the first login is refused at
// startup (a TypeError naming the option), or answered with a clear 500 and its code.
let as: TestAuthorizationServer;
let processWarnings: ReturnType<typeof recordProcessWarnings>;
beforeAll(async () => {
  as = await startAuthorizationServer({ redirectUris: [REDIRECT_URI, 'http://127.0.0.1:3000/auth/callback'] });
  processWarnings = recordProcessWarnings();
});
afterAll(async () => {
  processWarnings.restore();
  await as.stop();
});

describe('routes.callback against redirectUri', () => {
  it('should refuse a callback route that is not where redirectUri sends the browser', () => {
    expect(() => oauthMiddleware({ ...providerOptions(as), routes: { callback: '/auth/callback' } })).toThrow(
      'oauthMiddleware: `routes.callback` is "/auth/callback" but redirectUri (http://127.0.0.1:3000/callback) sends the browser to "/callback": every login would end on a 404. Make the callback route the path of redirectUri (or its end, when the middleware is mounted under a prefix).',
    );
  });

  it('should accept the end of redirectUri\u2019s path for a middleware mounted under a prefix, and log in through it', async () => {
    const app = express();
    app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    app.use('/auth', oauthMiddleware({ ...providerOptions(as, { redirectUri: 'http://127.0.0.1:3000/auth/callback' }), routes: { callback: '/callback' } }));
    app.get('/session', (req, res) => void res.json({ authenticated: req.oauth.isAuthenticated() }));
    const agent = request.agent(app);
    await login(agent, { loginPath: '/auth/login' });
    expect((await agent.get('/session')).body).toEqual({ authenticated: true });
  });

  it('should refuse it per provider with several providers', () => {
    expect(() => oauthMiddleware({ providers: { corp: providerOptions(as, { redirectUri: 'http://127.0.0.1:3000/callback' }) as ProviderOptions }, routes: { callback: '/cb' } })).toThrow(
      'oauthMiddleware: `routes.callback.corp` is "/cb/corp" but redirectUri (http://127.0.0.1:3000/callback) sends the browser to "/callback"',
    );
  });
});

describe('reserved authorization parameters in config', () => {
  it.each([
    ['state', 'is set by the package for each login and cannot be given'],
    ['nonce', 'is set by the package for each login and cannot be given'],
    ['redirect_uri', 'is set by the package for each login and cannot be given'],
    ['code_challenge', 'is set by the package for each login and cannot be given'],
    ['client_id', 'is set by the package for each login and cannot be given'],
    ['scope', 'is not allowed: use the `scope` option'],
  ])('should refuse authorizationParams.%s at startup', (name, problem) => {
    expect(() => oauthMiddleware(providerOptions(as, { authorizationParams: { [name]: 'x' } }))).toThrow(`oauthMiddleware: \`authorizationParams.${name}\` ${problem}`);
    expect(() => oauthMiddleware(providerOptions(as, { incrementalAuthorizationParams: { [name]: 'x' } }))).toThrow(`oauthMiddleware: \`incrementalAuthorizationParams.${name}\` ${problem}`);
  });

  it('should still accept response_type "code" and ordinary parameters in config', () => {
    expect(() => oauthMiddleware(providerOptions(as, { authorizationParams: { response_type: 'code', prompt: 'login' } }))).not.toThrow();
  });

  it('should refuse the same names in req.oauth.login with the same words (one shared list)', async () => {
    const { app } = createTestApp({
      oauth: providerOptions(as),
      routes: (a) =>
        a.get('/go', (req, res) => {
          req.oauth.login(res, { authorizationParams: { state: 'mine' } }).catch((err: Error) => res.status(500).send(err.message));
        }),
    });
    expect((await request(app).get('/go').expect(500)).text).toBe('req.oauth.login: `authorizationParams.state` is set by the package for each login and cannot be given');
  });
});

describe('requireAuth({ provider }) for a provider that does not exist', () => {
  function app() {
    const a = express();
    a.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    a.use(oauthMiddleware({ providers: { corp: providerOptions(as) as ProviderOptions } }));
    a.get('/private', requireAuth({ provider: 'github' }), (_req, res) => void res.send('secret'));
    a.use(oauthErrorHandler());
    return a;
  }

  it('should answer 500 with OAUTH_UNKNOWN_PROVIDER naming the configured providers (JSON)', async () => {
    const res = await request(app()).get('/private').set('Accept', 'application/json').expect(500);
    expect(res.body).toEqual({ error: 'OAuthError', code: 'OAUTH_UNKNOWN_PROVIDER', message: 'The sign-in service failed; try again.' });
  });

  it('should render the misconfigured page with the message for the developer (HTML)', async () => {
    const res = await request(app()).get('/private').set('Accept', HTML).expect(500);
    expect(res.text).toContain('<h1>This site’s sign-in is not set up correctly</h1>');
    expect(res.text).toContain('requireAuth({ provider: &#34;github&#34; }): oauthMiddleware has no provider of that name (configured: &#34;corp&#34;). Use a key of its `providers` option.');
  });

  it('should tell a single-provider app (no `providers` option) to leave `provider` out', async () => {
    const a = express();
    a.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    a.use(oauthMiddleware(providerOptions(as)));
    a.get('/private', requireAuth({ provider: 'github' }), (_req, res) => void res.send('secret'));
    const errors: unknown[] = [];
    a.use((err: { code?: string; message?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      errors.push([err.code, err.message]);
      res.status(500).end();
    });
    await request(a).get('/private').expect(500);
    expect(errors).toEqual([
      [
        'OAUTH_UNKNOWN_PROVIDER',
        'requireAuth({ provider: "github" }): oauthMiddleware has no provider of that name (configured: "default"). Its one provider is the one given without the `providers` option, named "default": leave `provider` out, or configure several with `providers`.',
      ],
    ]);
  });

  it('should pass the error to next(err) with the code when there is no oauthErrorHandler', async () => {
    const a = express();
    a.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    a.use(oauthMiddleware({ providers: { corp: providerOptions(as) as ProviderOptions } }));
    a.get('/private', requireAuth({ provider: 'github' }), (_req, res) => void res.send('secret'));
    a.use((err: { code?: string; status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => void res.status(599).json({ code: err.code, status: err.status }));
    expect((await request(a).get('/private').expect(599)).body).toEqual({ code: 'OAUTH_UNKNOWN_PROVIDER', status: 500 });
  });
});
