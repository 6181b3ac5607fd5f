/**
 * How this repository's TypeScript is compiled where tsc does not run: Jest, the tests' child
 * processes (test/support/ts-loader.mjs) and the demo (scripts/run-demo.mjs). ESM output with
 * legacy decorators and their metadata, as Nest needs.
 */
export const SWC_TYPESCRIPT = {
  jsc: {
    target: 'es2022',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
  },
  module: { type: 'es6' },
};
