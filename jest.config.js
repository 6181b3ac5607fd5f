/** Jest runs in ESM mode (NestJS 12 is ESM-only); SWC compiles TypeScript with decorator metadata. */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.spec.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^nestjs-redis-rate-limit$': '<rootDir>/lib/index.ts',
    '^nestjs-redis-rate-limit/terminus$': '<rootDir>/lib/terminus/index.ts',
    '^nestjs-redis-rate-limit/prometheus$': '<rootDir>/lib/prometheus/index.ts',
    '^nestjs-redis-rate-limit/opentelemetry$': '<rootDir>/lib/opentelemetry/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          target: 'es2022',
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
        },
        module: { type: 'es6' },
      },
    ],
  },
  testTimeout: 30000,
  maxWorkers: 2,
};
