// Compile-only (npm test runs tsc over test/): provider names declared through Register type
// req.oauth.<name>; undeclared names are errors.
import type { Request } from 'express';
import type { ProviderClient } from 'express-oauth2-session';

declare module 'express-oauth2-session' {
  interface Register {
    providers: 'alpha' | 'beta';
  }
}

export async function typedProviders(req: Request): Promise<void> {
  const alpha: ProviderClient = req.oauth.alpha;
  const res: Response = await req.oauth.beta.get('/me');
  const loggedIn: boolean = req.oauth.alpha.isAuthenticated();
  // @ts-expect-error not a declared provider
  void req.oauth.gamma;
  void alpha;
  void res;
  void loggedIn;
}
