// The example app's "several APIs" page (/apis) as server.ts sets it up without env: two APIs that
// each accept only a JWT for their own resource (RFC 8707), called with two different tokens.
import request from 'supertest';
import { authorizeWithoutBrowser, type TestProvider } from 'express-oauth2-session/testing';
import { startAuthorizationServer } from '../support/authorization-server';
import { startAudienceApi, startExampleApi, type ExampleApi } from '../../example-app/api';
import { createApp } from '../../example-app/app';

const resources = { orders: 'https://orders.example.test/', billing: 'https://billing.example.test/' };
let provider: TestProvider;
const apis: ExampleApi[] = [];
beforeAll(async () => {
  provider = await startAuthorizationServer({
    accessTokenTTL: 300,
    resourceServers: { [resources.orders]: { scope: 'orders:read', accessTokenFormat: 'jwt' }, [resources.billing]: { scope: 'billing:read', accessTokenFormat: 'jwt' } },
  });
  apis.push(await startExampleApi({ introspectionUrl: provider.endpoints.introspection, clientId: 'svc', clientSecret: 'svc-secret' }));
  apis.push(await startAudienceApi({ name: 'orders', issuer: provider.issuer, resource: resources.orders }));
  apis.push(await startAudienceApi({ name: 'billing', issuer: provider.issuer, resource: resources.billing }));
});
afterAll(async () => {
  await Promise.all(apis.map((a) => a.stop()));
  await provider.stop();
});

it('should call two APIs with two audience-restricted tokens on /apis, linked from the profile', async () => {
  const [quotes, orders, billing] = apis as [ExampleApi, ExampleApi, ExampleApi];
  const oauth = {
    ...provider.providerOptions({ apiBaseUrl: quotes.url, allowedOrigins: [quotes.url, provider.issuer] }),
    apis: {
      orders: { url: `${orders.url}/api`, resource: resources.orders, scope: 'orders:read' },
      billing: { url: `${billing.url}/api`, resource: resources.billing, scope: 'billing:read' },
    },
  };
  const { app } = createApp({ oauth, profileApiUrl: '/api/quote', userinfoUrl: provider.endpoints.userinfo, sessionSecret: 'test' });
  const agent = request.agent(app);
  const start = await agent.get('/login?returnTo=%2Fprofile').expect(302);
  const { callbackUrl } = await authorizeWithoutBrowser(start.headers.location as string, { user: 'alice' });
  await agent.get(new URL(callbackUrl).pathname + new URL(callbackUrl).search).expect(303);
  expect((await agent.get('/profile').expect(200)).text).toContain('<a href="/apis">Call 2 APIs, each with its own token</a>');
  const page = (await agent.get('/apis').expect(200)).text;
  expect(page).toContain(
    '<dt>orders</dt><dd>HTTP 200: {&quot;api&quot;:&quot;orders&quot;,&quot;audience&quot;:&quot;https://orders.example.test/&quot;,&quot;scope&quot;:&quot;orders:read&quot;,&quot;for&quot;:&quot;alice&quot;}</dd>',
  );
  expect(page).toContain(
    '<dt>billing</dt><dd>HTTP 200: {&quot;api&quot;:&quot;billing&quot;,&quot;audience&quot;:&quot;https://billing.example.test/&quot;,&quot;scope&quot;:&quot;billing:read&quot;,&quot;for&quot;:&quot;alice&quot;}</dd>',
  );
});
