// `npm run test:cluster`: the tests that start a real Redis Cluster (6 redis-server) and Sentinel
// groups (5 processes each), with app processes on them (the refresh storm, a master killed
// mid-refresh), plus the slow-provider lease and paused lock Redis tests; kept out of `npm test` for
// its time budget; .ci/run runs both.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config reusing the main one's transform
const { projects } = require('./jest.config.js');
const { transform, moduleNameMapper, testEnvironment } = projects[0];

module.exports = {
  testTimeout: 30000,
  projects: [{ displayName: 'redis-topology', testEnvironment, transform, moduleNameMapper, testMatch: ['<rootDir>/test/topology/**/*.test.ts'] }],
};
