/**
 * Integration suites (`*.int.test.ts` under packages/<pkg>/test/integration/)
 * against the AWS emulator. Run them with `npm run test:integration`
 * (scripts/test-integration.js), which starts moto and sets AWS_ENDPOINT_URL.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/lambdas', '<rootDir>/test'],
  testMatch: ['**/test/integration/**/*.int.test.ts'],
  transform: {
    // Same transform as jest.config.js: type checking is done by `tsc`; jest only transpiles.
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    // ESM-only packages (@noble/post-quantum for ML-DSA-44 and its @noble deps) become CommonJS for jest.
    '/node_modules/@noble/.+\\.js$': '<rootDir>/test/esm-transform.js',
  },
  // node_modules is not transformed, except the ESM-only @noble packages.
  transformIgnorePatterns: ['/node_modules/(?!@noble/)'],
  moduleNameMapper: {
    '^@phase-mirror/mirror-dissonance$': '<rootDir>/packages/mirror-dissonance/src/index.ts',
  },
  // One emulator is shared by every suite: run the files one at a time.
  maxWorkers: 1,
  testTimeout: 60_000,
};
