// Type-checked against the packed package (its "exports"/"typesVersions" and generated .d.ts) in
// every consumer project of test/package/package.test.ts, with skipLibCheck off: Express 4 and 5
// typings, ESM and CommonJS resolution. req.oauth is typed by the import alone.
import express from 'express';
import session from 'express-session';
import {
  ApiChallengeError,
  clientCredentials,
  isOAuthError,
  oauthErrorHandler,
  oauthMiddleware,
  passwordGrant,
  providers,
  requireAuth,
  type GrantClient,
  type OAuthSessionData,
  type OAuthUser,
  type TokenSet,
} from 'express-oauth2-session';

const app = express();
app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
app.use(
  oauthMiddleware({ clientId: 'id', clientSecret: 'secret', authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', redirectUri: 'http://127.0.0.1:3000/callback' }),
);
app.get('/repos', requireAuth(), async (req, res, next) => {
  try {
    const response: Response = await req.oauth.get('/user/repos');
    const token: Readonly<TokenSet> | undefined = await req.oauth.getToken();
    const user: OAuthUser | undefined = req.oauth.user;
    const loggedIn: boolean = req.oauth.isAuthenticated();
    const loginState: OAuthSessionData | undefined = req.session.oauth;
    res.json({ status: response.status, hasToken: token !== undefined, sub: user?.sub, loggedIn, hasLoginState: loginState !== undefined });
  } catch (err) {
    next(isOAuthError(err) ? err : err);
  }
});
app.use(oauthErrorHandler());

// The README's "Several APIs", FAPI 2.0 and response-mode paragraphs, as a user writes them.
export const severalApis = oauthMiddleware({
  issuer: 'https://as.example',
  clientId: 'id',
  clientSecret: 'secret',
  redirectUri: 'https://app.example/callback',
  responseMode: 'form_post',
  frontchannelLogout: true,
  telemetry: false,
  apis: { orders: { url: 'https://orders.example', resource: 'https://orders.example/', scope: ['orders:read'] }, billing: { url: 'https://billing.example', exchange: { audience: 'billing' } } },
});
export const bank = oauthMiddleware({
  issuer: 'https://bank.example',
  clientId: 'id',
  redirectUri: 'https://app.example/callback',
  profile: 'fapi2',
  tokenEndpointAuthMethod: 'private_key_jwt',
  clientAssertionKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' },
  clientAssertionAlg: 'ES256',
  dpop: true,
});
export const tenants = oauthMiddleware({
  ...providers.entra({ tenant: 'organizations' }),
  clientId: 'id',
  clientSecret: 'secret',
  redirectUri: 'https://app.example/callback',
  allowedTenants: ['t1'],
});
export async function callApis(req: express.Request): Promise<[number, string | undefined, string, boolean]> {
  const items: Response = await req.oauth.api('orders').get('/items');
  const ordersToken: Readonly<TokenSet> | undefined = await req.oauth.getToken({ api: 'orders' });
  const exchanged: Readonly<TokenSet> = await req.oauth.exchange({ audience: 'billing', scope: ['billing:read'] });
  const challenge = new Error('x') instanceof ApiChallengeError;
  return [items.status, ordersToken?.accessToken, exchanged.tokenType, challenge];
}

// Backend clients take a preset spread: the preset's tokenUrl is optional in its type.
export const backend: GrantClient = clientCredentials({ ...providers.battlenet({ region: 'eu' }), clientId: 'id', clientSecret: 'secret' });
export const legacy: GrantClient = passwordGrant({ ...providers.battlenet({ region: 'eu' }), clientId: 'id', clientSecret: 'secret', username: 'u', password: 'p' });

declare module 'express-oauth2-session' {
  interface Register {
    providers: 'github';
  }
}

export async function typedProvider(req: express.Request): Promise<number> {
  return (await req.oauth.github.get('/user')).status;
}

export function misuse(req: express.Request): void {
  // @ts-expect-error only registered provider names exist on req.oauth
  void req.oauth.gitlab;
  // @ts-expect-error getToken returns a promise, not a token
  const wrong: TokenSet = req.oauth.getToken();
  // @ts-expect-error the session's login state is opaque (its stored format is internal): read it through req.oauth
  void req.session.oauth?.p;
  // @ts-expect-error unknown options are refused (by tsc here, by a TypeError at startup in JS)
  oauthMiddleware({ clientId: 'id', redirectUri: 'http://127.0.0.1:3000/callback', issuer: 'https://as.example', scopes: 'openid' });
  void wrong;
}
