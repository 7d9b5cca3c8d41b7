// CommonJS consumer: require() of the package and its testing kit; the kit's provider process starts
// from the installed package and issues a client-credentials token to the package's backend client.
const { clientCredentials } = require('express-oauth2-session');
const { startTestProvider } = require('express-oauth2-session/testing');

async function main() {
  const provider = await startTestProvider();
  try {
    const discovery = await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json();
    const token = await clientCredentials({ clientId: 'svc', clientSecret: 'svc-secret', tokenUrl: provider.endpoints.token }).getToken();
    const esm = await import('express-oauth2-session');
    return { issuer: discovery.issuer === provider.issuer, tokenType: token.tokenType, sameInstance: esm.clientCredentials === clientCredentials };
  } finally {
    await provider.stop();
  }
}

main().then((result) => console.log(JSON.stringify(result)));
