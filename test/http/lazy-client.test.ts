import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { oauthMiddleware } from 'express-oauth2-session';

// Issue 15: req.oauth costs nothing until used: a getter on the app's request prototype builds
// the client on first access and caches it on that request (an own property, added only then).
const options = { clientId: 'c', clientSecret: 's', authorizationUrl: 'https://as.example/authorize', tokenUrl: 'https://as.example/token', redirectUri: 'http://127.0.0.1:3000/callback' };

function app(touch: boolean) {
  const a = express();
  a.use(session({ secret: 's', resave: false, saveUninitialized: false }));
  a.use(oauthMiddleware(options));
  a.get('/probe', (req, res) => {
    const before = Object.prototype.hasOwnProperty.call(req, 'oauth');
    const authenticated = touch ? req.oauth.isAuthenticated() : null;
    res.json({ before, after: Object.prototype.hasOwnProperty.call(req, 'oauth'), authenticated, same: touch ? req.oauth === req.oauth : null });
  });
  return a;
}

describe('req.oauth on Express', () => {
  it('should add no property to a request that never touches req.oauth', async () => {
    expect((await request(app(false)).get('/probe').expect(200)).body).toEqual({ before: false, after: false, authenticated: null, same: null });
  });

  it('should build the client on first access and keep the same one for the rest of the request (cached on req from then on)', async () => {
    expect((await request(app(true)).get('/probe').expect(200)).body).toEqual({ before: false, after: true, authenticated: false, same: true });
  });

  it('should keep two apps in one process apart (each its own middleware and prototype)', async () => {
    const a = app(true);
    const b = express();
    b.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    b.use(oauthMiddleware({ ...options, clientId: 'other', routes: { login: '/signin' } }));
    b.get('/probe', (req, res) => res.json({ own: Object.prototype.hasOwnProperty.call(req, 'oauth'), loginPath: req.oauth.loginPath }));
    expect((await request(b).get('/probe')).body).toEqual({ own: false, loginPath: '/signin' });
    expect((await request(a).get('/probe')).body.authenticated).toBe(false);
  });
});
