// Two projects: the whole suite on Express 5, and the route/client integration tests again on
// Express 4 (the `express4` npm alias), since both are supported peers.
// ts-jest in transpile-only mode: `npm test` type-checks the whole tree with tsc first.
// (No native transformer: the registry this project installs from lacks other platforms' binaries,
// and package-lock.json must stay installable with `npm ci`.)
const transform = ['ts-jest', { isolatedModules: true, tsconfig: { module: 'commonjs', target: 'es2022', esModuleInterop: true, isolatedModules: true } }];
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
  projects: [
    { ...shared, displayName: 'express5', testMatch: ['<rootDir>/test/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'express4',
      testMatch: ['<rootDir>/test/integration/express4/**/*.test.ts', '<rootDir>/test/integration/{login,client,refresh-races}.test.ts', '<rootDir>/test/security/a-*.test.ts', '<rootDir>/test/http/require-auth*.test.ts'],
      moduleNameMapper: { '^express$': 'express4', ...shared.moduleNameMapper },
    },
  ],
};
