// Three projects: the whole suite on Express 5, the route/client integration tests again on
// Express 4 (the `express4` npm alias), and the Connect suite on plain Connect. test/topology/
// (a real Redis Cluster and Sentinel group) runs apart: `npm run test:cluster` (jest.cluster.config.js).
// ts-jest in transpile-only mode: `npm test` type-checks the whole tree with tsc first.
// (No native transformer: the registry this project installs from lacks other platforms' binaries,
// and package-lock.json must stay installable with `npm ci`.)
const transform = ['ts-jest', { tsconfig: { module: 'commonjs', target: 'es2022', esModuleInterop: true, isolatedModules: true } }];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': transform },
  moduleNameMapper: {
    '^express-oauth2-session$': '<rootDir>/lib/index.ts',
    '^express-oauth2-session/testing$': '<rootDir>/lib/testing/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
};
module.exports = {
  testTimeout: 30000,
  // Jest's default on this 2-core machine is one worker (cores - 1); the suite mostly waits on
  // sockets (the AS, Redis, Chromium), so two workers finish it in about 100 s instead of 140 s.
  maxWorkers: 2,
  // One test authorization-server process per worker, shared by the test files it runs (each file
  // still gets its own provider instance in it): see test/support/provider-hosts.ts.
  globalSetup: '<rootDir>/test/support/jest-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/jest-global-teardown.ts',
  projects: [
    { ...shared, displayName: 'express5', testMatch: ['<rootDir>/test/**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/http/connect/', '<rootDir>/test/topology/'] },
    // Plain Connect (no Express): the routes, requireAuth, the error handler and req.oauth.
    { ...shared, displayName: 'connect', testMatch: ['<rootDir>/test/http/connect/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'express4',
      testMatch: [
        '<rootDir>/test/http/{login-flow,logout-revocation}.test.ts',
        '<rootDir>/test/client/{provider-client,refresh-races,several-apis,token-exchange-client-auth}.test.ts',
        '<rootDir>/test/security/callback-validation.test.ts',
        '<rootDir>/test/session/login-races.test.ts',
        '<rootDir>/test/http/require-auth*.test.ts',
        '<rootDir>/test/http/lazy-client.test.ts',
        '<rootDir>/test/http/login-from-code.test.ts',
        '<rootDir>/test/http/{idp-logout,backchannel-logout,form-post,frontchannel-logout,multi-tenant}.test.ts',
        '<rootDir>/test/client/dpop.test.ts',
        '<rootDir>/test/http/{api-challenges,api-challenges-apis,relogin-revocation,several-apis-login-end,fapi-login,form-post-step-up}.test.ts',
        '<rootDir>/test/diagnostics/*.test.ts',
      ],
      moduleNameMapper: { '^express$': 'express4', ...shared.moduleNameMapper },
    },
  ],
};
