import { SWC_TYPESCRIPT } from './scripts/swc-typescript.mjs';

/** Jest runs in ESM mode (NestJS 12 is ESM-only); SWC compiles TypeScript with decorator metadata. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  // The starter apps have their own installs and test runners (npm run test:starters).
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/starters/'],
  modulePathIgnorePatterns: ['<rootDir>/test/starters/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^nestjs-redis-rate-limit$': '<rootDir>/lib/index.ts',
    '^nestjs-redis-rate-limit/terminus$': '<rootDir>/lib/terminus/index.ts',
    '^nestjs-redis-rate-limit/prometheus$': '<rootDir>/lib/prometheus/index.ts',
    '^nestjs-redis-rate-limit/opentelemetry$': '<rootDir>/lib/opentelemetry/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['@swc/jest', SWC_TYPESCRIPT],
  },
  testTimeout: 30000,
  maxWorkers: 2,
  // A worker that grew past this after a suite is replaced: memory does not pile up across suites.
  workerIdleMemoryLimit: '1GB',
};
