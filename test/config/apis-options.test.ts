import { oauthMiddleware } from 'express-oauth2-session';
import { resolveConfig } from '../../lib/config/resolve';
import { ApiRoutes } from '../../lib/client/api-routes';

// `apis` (issue 21, SPEC §5a), validated at startup: a TypeError naming the option path.
const base = { clientId: 'app', clientSecret: 's', authorizationUrl: 'https://as.example/auth', tokenUrl: 'https://as.example/token', redirectUri: 'https://app.example/callback' };

function refusal(options: Record<string, unknown>): string | undefined {
  try {
    oauthMiddleware({ ...base, ...options } as never);
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message} [${(err as { code?: string }).code}]`;
  }
  return undefined;
}

describe('apis option', () => {
  it.each<[Record<string, unknown>, string]>([
    [{ apis: [] }, '`apis` must be an object'],
    [{ apis: { orders: 'https://orders.example' } }, '`apis.orders` must be an object'],
    [{ apis: { '1orders': { url: 'https://orders.example' } } }, '`apis.1orders` name must be a letter followed by up to 63 letters, digits, "_" or "-"'],
    [{ apis: { orders: {} } }, '`apis.orders.url` must be a non-empty string'],
    [{ apis: { orders: { url: 'http://orders.example' } } }, '`apis.orders.url` must use https (http is allowed only for loopback hosts)'],
    [{ apis: { orders: { url: 'https://orders.example/v1?x=1' } } }, '`apis.orders.url` must be a base URL with no query or fragment'],
    [{ apis: { orders: { url: 'https://orders.example', resourse: 'https://orders.example/' } } }, '`apis.orders.resourse` is not an option; did you mean `resource`?'],
    [{ apis: { orders: { url: 'https://orders.example', resource: 'orders' } } }, '`apis.orders.resource` must be an absolute URI (RFC 8707)'],
    [{ apis: { orders: { url: 'https://orders.example', resource: 'https://orders.example/#x' } } }, '`apis.orders.resource` must not have a fragment (RFC 8707 §2)'],
    [{ apis: { orders: { url: 'https://orders.example', resource: 'https://o/', scope: 'a  b\n' } } }, '`apis.orders.scope` must be a space-separated string or an array of scope strings'],
    [
      { apis: { orders: { url: 'https://orders.example', scope: 'orders:read' } } },
      "`apis.orders.scope` needs `resource` or `exchange`: without them the API uses the login token, whose scope is the login's",
    ],
    [{ apis: { orders: { url: 'https://orders.example', provider: 'github' } } }, '`apis.orders.provider` names no configured provider (one of default)'],
    [{ apis: { orders: { url: 'https://orders.example', exchange: {} } } }, '`apis.orders.exchange` needs `audience` or `resource` (RFC 8693 §2.1)'],
    [{ apis: { orders: { url: 'https://orders.example', exchange: { audiance: 'x' } } } }, '`apis.orders.exchange.audiance` is not an option; did you mean `audience`?'],
    [
      { apis: { orders: { url: 'https://orders.example', resource: 'https://o/', exchange: { audience: 'x' } } } },
      '`apis.orders.exchange` cannot be combined with `resource`: put the resource inside `exchange`',
    ],
    [{ apis: { a: { url: 'https://orders.example/' }, b: { url: 'https://orders.example' } } }, '`apis.b.url` is also the url of API "a"; each API needs its own base URL'],
  ])('should refuse %j', (options, message) => {
    expect(refusal(options)).toBe(`TypeError: oauthMiddleware: ${message} [ERR_OAUTH_CONFIG]`);
  });

  it('should require `provider` with several providers', () => {
    const providers = { github: { ...base }, google: { ...base, redirectUri: 'https://app.example/callback2' } };
    expect(() => oauthMiddleware({ providers, apis: { orders: { url: 'https://orders.example' } } } as never)).toThrow(
      'oauthMiddleware: `apis.orders.provider` is required with several providers (one of github, google)',
    );
  });

  it('should resolve each API, add its resource and scope to its provider login', () => {
    const config = resolveConfig({
      ...base,
      scope: 'openid',
      apis: {
        orders: { url: 'https://orders.example/v1', resource: 'https://orders.example/', scope: 'orders:read' },
        partner: { url: 'https://partner.example', exchange: { audience: 'partner', scope: ['p:read'] } },
        legacy: { url: 'https://legacy.example/api/' },
      },
    });
    const provider = config.providers.get('default')!;
    expect(provider.resources).toEqual(['https://orders.example/']);
    expect(provider.scope).toEqual(['openid', 'orders:read']);
    const { target, ...orders } = config.apis.get('orders')!;
    expect(orders).toEqual({
      name: 'orders',
      url: 'https://orders.example/v1',
      origin: 'https://orders.example',
      resource: 'https://orders.example/',
      scope: ['orders:read'],
      provider: 'default',
      exchange: undefined,
      ownToken: true,
    });
    expect([...target.allowedOrigins]).toEqual(['https://orders.example']);
    expect(config.apis.get('partner')!.exchange).toEqual({ audience: 'partner', resource: undefined, scope: ['p:read'] });
    expect(config.apis.get('legacy')!.ownToken).toBe(false);
  });
});

describe('routing an absolute URL to an API (longest prefix, cut at a path boundary)', () => {
  const config = resolveConfig({
    ...base,
    apis: {
      root: { url: 'https://api.example' },
      orders: { url: 'https://api.example/orders', resource: 'https://api.example/orders' },
      archive: { url: 'https://api.example/orders/archive/', resource: 'https://api.example/archive' },
    },
  });
  const routes = new ApiRoutes(config.apis.values());
  it.each<[string, string | undefined]>([
    ['https://api.example/orders', 'orders'],
    ['https://api.example/orders/1', 'orders'],
    ['https://api.example/orders?q=1', 'orders'],
    ['https://api.example/orders-archive', 'root'],
    ['https://api.example/orders/archive/2020', 'archive'],
    ['https://api.example/orders/archive', 'orders'],
    ['https://api.example/', 'root'],
    ['https://api.example.evil/orders', undefined],
    ['https://other.example/orders', undefined],
  ])('%s → %s', (href, name) => {
    expect(routes.match(new URL(href).href)?.api.name).toBe(name);
  });
});
