// Two projects: the whole suite on Express 5, and the route/client integration tests again on
// Express 4 (the `express4` npm alias), since both are supported peers.
const swc = ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: {
    '^express-oauth2-session$': '<rootDir>/lib/index.ts',
    '^express-oauth2-session/testing$': '<rootDir>/lib/testing/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 30000,
};
module.exports = {
  projects: [
    { ...shared, displayName: 'express5', testMatch: ['<rootDir>/test/**/*.test.ts'] },
    {
      ...shared,
      displayName: 'express4',
      testMatch: ['<rootDir>/test/integration/express4/**/*.test.ts', '<rootDir>/test/integration/{login,callback,client,refresh}.test.ts'],
      moduleNameMapper: { '^express$': 'express4', ...shared.moduleNameMapper },
    },
  ],
};
