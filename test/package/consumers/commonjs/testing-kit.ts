// CommonJS ("module": "nodenext" without "type": "module"; also checked with "moduleResolution": "node10",
// where the testing subpath resolves through "typesVersions").
import { startTestProvider, type TestProvider } from 'express-oauth2-session/testing';
import { clientCredentials } from 'express-oauth2-session';

export async function backendToken(): Promise<string> {
  const provider: TestProvider = await startTestProvider();
  try {
    return (await clientCredentials({ clientId: 'svc', clientSecret: 'svc-secret', tokenUrl: provider.endpoints.token }).getToken()).tokenType;
  } finally {
    await provider.stop();
  }
}
