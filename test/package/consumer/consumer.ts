// Compiled against dist/ (package "exports" + generated .d.ts) by test/package/package.test.ts:
// proves a consumer gets req.oauth typed just by importing the package.
import express from 'express';
import session from 'express-session';
import { oauthMiddleware, requireAuth, isOAuthError, type TokenSet } from 'express-oauth2-session';

const app = express();
app.use(session({ secret: 's', resave: false, saveUninitialized: false }));
app.use(oauthMiddleware({ clientId: 'id', clientSecret: 'secret', authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', redirectUri: 'http://127.0.0.1:3000/callback' }));
app.get('/repos', requireAuth(), async (req, res, next) => {
  try {
    const response: Response = await req.oauth.get('/user/repos');
    const token: Readonly<TokenSet> | undefined = await req.oauth.getToken();
    const loggedIn: boolean = req.oauth.isAuthenticated();
    const markers = req.session.oauth?.p;
    res.json({ status: response.status, hasToken: token !== undefined, loggedIn, providers: Object.keys(markers ?? {}) });
  } catch (err) {
    next(isOAuthError(err) ? err : err);
  }
});
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
  // @ts-expect-error sessions never hold tokens
  void req.session.oauth?.p?.default?.accessToken;
  void wrong;
}
