// Reads lib/algorithms/algorithm-table.ts, the one place an algorithm's identity lives, so the
// Lua build dispatches on the same codes the library sends. The file imports nothing, so it
// runs on its own once its types are stripped.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import ts from 'typescript';

/** The rows of ALGORITHM_TABLE: `{ name, code, letter, kind }`. */
export function loadAlgorithmTable(root) {
  const source = readFileSync(join(root, 'lib', 'algorithms', 'algorithm-table.ts'), 'utf8');
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } });
  const exports = {};
  runInNewContext(outputText, { exports, Map });
  return exports.ALGORITHM_TABLE;
}
