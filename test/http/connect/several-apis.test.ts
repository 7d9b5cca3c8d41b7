import type { IncomingMessage, ServerResponse } from 'node:http';
import request from 'supertest';
import { createConnectApp, type Req } from '../../support/connect-app';
import { login } from '../../support/login-flow';
import { API_NAMES, bearerOf, jwtPayload, startSeveralApis, type SeveralApis } from '../../support/several-apis';
import { providerOptions } from '../../support/test-app';

// Several APIs on plain Connect: req.oauth.api(name) and absolute-URL routing, one token per API.
let env: SeveralApis;
beforeAll(async () => {
  env = await startSeveralApis();
});
afterAll(() => env.stop());

function json(res: ServerResponse, status: number, body: unknown): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(body));
}

it('should call three APIs with three audience-restricted tokens on Connect', async () => {
  const { app } = createConnectApp({
    oauth: { ...providerOptions(env.as), apis: env.apis },
    routes: (connectApp) => {
      connectApp.use('/call', (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => {
        const name = (req.url ?? '/').slice(1);
        const r = req as Req;
        const call = name === 'partner' ? r.oauth.get(`${env.apis.partner.url}/items`) : r.oauth.api(name).get('/items');
        call.then(async (out) => json(res, out.status, await out.json())).catch(next);
      });
    },
  });
  const agent = request.agent(app);
  await login(agent);
  await env.as.clearRequests();
  for (const name of API_NAMES) {
    const res = await agent.get(`/call/${name}`).expect(200);
    expect([res.body.aud, res.body.path]).toEqual([env.apis[name].resource, `/${name}/items`]);
    expect(env.servers[name].seen.map((h) => jwtPayload(bearerOf(h)).aud)).toEqual([env.apis[name].resource]);
  }
  expect((await env.as.tokenRequests()).map((r) => [r.grantType, r.status])).toEqual([
    ['refresh_token', 200],
    ['refresh_token', 200],
    ['refresh_token', 200],
  ]);
});
