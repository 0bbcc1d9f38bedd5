/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/lambdas', '<rootDir>/test'],
  testMatch: ['**/test/**/*.test.ts'],
  // Integration suites need the AWS emulator: `npm run test:integration` runs them.
  testPathIgnorePatterns: ['/node_modules/', '/test/integration/'],
  transform: {
    // Type checking is done once by `tsc -b` in `npm test`; jest only transpiles.
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }],
    // ESM-only packages (@noble/post-quantum for ML-DSA-44 and its @noble deps) become CommonJS for jest.
    '/node_modules/@noble/.+\\.js$': '<rootDir>/test/esm-transform.js',
  },
  // node_modules is not transformed, except the ESM-only @noble packages.
  transformIgnorePatterns: ['/node_modules/(?!@noble/)'],
  moduleNameMapper: {
    '^@phase-mirror/mirror-dissonance$': '<rootDir>/packages/mirror-dissonance/src/index.ts',
  },
  collectCoverageFrom: ['packages/*/src/**/*.ts', 'lambdas/**/*.ts'],
  coverageReporters: ['text-summary', 'json-summary'],
  coverageThreshold: {
    global: { lines: 80, statements: 80, functions: 80, branches: 70 },
    './packages/mirror-dissonance/src/l0/': { lines: 90, statements: 90, functions: 90 },
    './packages/mirror-dissonance/src/policy/': { lines: 90, statements: 90, functions: 90 },
    './packages/mirror-dissonance/src/redaction/': { lines: 90, statements: 90, functions: 90 },
    './packages/mirror-dissonance/src/report/': { lines: 90, statements: 90, functions: 90 },
  },
};
