// Runtime proof for a consumer project (copied into it by test/package/package.test.ts): the
// installed package mounts on the project's Express, starts a login, refuses an anonymous API
// call, and builds a backend client from a preset spread. Prints one JSON line.
const http = require('node:http');

async function runSmoke(pkg, express, session) {
  const { oauthMiddleware, requireAuth, oauthErrorHandler, clientCredentials, providers } = pkg;
  const app = express();
  app.use(session({ secret: 'smoke', resave: false, saveUninitialized: false }));
  app.use(
    oauthMiddleware({ clientId: 'id', clientSecret: 'secret', authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', redirectUri: 'http://127.0.0.1/callback' }),
  );
  app.get('/me', requireAuth(), (req, res) => res.json({ sub: req.oauth.user?.sub }));
  app.use(oauthErrorHandler());
  const backend = clientCredentials({ ...providers.battlenet({ region: 'eu' }), clientId: 'id', clientSecret: 'secret' });

  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const base = `http://127.0.0.1:${server.address().port}`;
    const login = await fetch(`${base}/login`, { redirect: 'manual' });
    const location = new URL(login.headers.get('location'));
    const me = await fetch(`${base}/me`, { headers: { accept: 'application/json' } });
    return {
      apis: await severalApis(pkg, express, session),
      fapi: fapiRefusal(pkg),
      express: require(require.resolve('express/package.json', { paths: [process.cwd()] })).version.split('.')[0],
      login: [login.status, `${location.origin}${location.pathname}`, location.searchParams.get('response_type')],
      me: [me.status, (await me.json()).code],
      backend: backend.toJSON(),
    };
  } finally {
    server.close();
  }
}

/** README "Several APIs" + form_post: the login asks for every configured API's resource, as a form_post. */
async function severalApis(pkg, express, session) {
  const app = express();
  app.use(session({ secret: 'smoke', resave: false, saveUninitialized: false }));
  app.use(
    pkg.oauthMiddleware({
      clientId: 'id',
      clientSecret: 'secret',
      authorizationUrl: 'https://as.example/authorize',
      tokenUrl: 'https://as.example/token',
      redirectUri: 'http://127.0.0.1/callback',
      responseMode: 'form_post',
      apis: { orders: { url: 'https://orders.example', resource: 'https://orders.example/' }, billing: { url: 'https://billing.example', resource: 'https://billing.example/' } },
    }),
  );
  const server = http.createServer(app);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const login = await fetch(`http://127.0.0.1:${server.address().port}/login`, { redirect: 'manual' });
    const params = new URL(login.headers.get('location')).searchParams;
    return [login.status, params.getAll('resource'), params.get('response_mode')];
  } finally {
    server.close();
  }
}

/** README "FAPI 2.0": a setting the profile forbids is a TypeError naming the option and the rule. */
function fapiRefusal(pkg) {
  try {
    pkg.oauthMiddleware({ issuer: 'https://bank.example', clientId: 'id', clientSecret: 'secret', redirectUri: 'https://app.example/callback', profile: 'fapi2' });
    return 'accepted';
  } catch (err) {
    return [err.constructor.name, err.rule, err.message.includes('tokenEndpointAuthMethod')];
  }
}

module.exports = { runSmoke };
