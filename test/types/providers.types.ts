// Compile-only (npm test runs tsc over test/): provider names declared through Register type
// req.oauth.<name>; undeclared names are errors.
import type { Request } from 'express';
import { clientCredentials, passwordGrant, providers, type OAuthRequestContext, type ProviderPreset, type TokenSet } from 'express-oauth2-session';

declare module 'express-oauth2-session' {
  interface Register {
    providers: 'alpha' | 'beta';
  }
}

export async function typedProviders(req: Request): Promise<void> {
  // A named provider's client has no exported name of its own: index OAuthRequestContext.
  const alpha: OAuthRequestContext['alpha'] = req.oauth.alpha;
  const sameClient: OAuthRequestContext['beta'] = req.oauth.provider('beta');
  const res: Response = await req.oauth.beta.get('/me');
  const loggedIn: boolean = req.oauth.alpha.isAuthenticated();
  // @ts-expect-error not a declared provider
  void req.oauth.gamma;
  void alpha;
  void sameClient;
  void res;
  void loggedIn;
}

// Presets and backend grants: typed options and results.
export async function typedPresetsAndGrants(): Promise<void> {
  const preset: ProviderPreset = providers.battlenet({ region: 'eu' });
  // @ts-expect-error not a Battle.net region
  providers.battlenet({ region: 'mars' });
  const backend = clientCredentials({ clientId: 'x', clientSecret: 'y', tokenUrl: 'https://as.example/token', apiBaseUrl: 'https://api.example' });
  const token: Readonly<TokenSet> = await backend.getToken();
  const res: Response = await backend.post('/jobs', { body: { id: 1 }, query: { dryRun: true } });
  // @ts-expect-error the password grant needs the resource owner's username
  passwordGrant({ clientId: 'x', tokenUrl: 'https://as.example/token', password: 'p' });
  void preset;
  void token;
  void res;
}
