// End-to-end tests: the bundled action (dist/index.js) against the local
// control plane (test/cluster/). Run through test/e2e/run.sh (npm run
// test:e2e), which starts and stops the cluster; ESM ts-jest as jest.config.js.
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // etcd data and logs of the local clusters (.cluster/, .cluster-bench/, ...)
  modulePathIgnorePatterns: ['<rootDir>/\\.cluster', '<rootDir>/test/cluster/bin/'],
  watchPathIgnorePatterns: ['<rootDir>/\\.cluster'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'test/e2e/tsconfig.json' }] },
  // Scenarios run one at a time (--runInBand) on real timing: pods, back-offs
  // of 10 s, Job conditions about 1 s after the last pod write.
  testTimeout: 120_000,
  slowTestThreshold: 30,
  verbose: true
}
