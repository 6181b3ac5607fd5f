// Composes lua/*.lua into the single `decide` script. Each algorithm module holds two fragments,
// after `-- @check` and `-- @finish`; they become the branches of an if/elseif on the algorithm
// code, followed by lua/policy.lua's fragments of the same name, at the markers of lua/decide.lua
// (`-- @policy` is lua/policy.lua's alone). Every line keeps where it came from, so the name
// check below and the syntax check of the lint (scripts/lua-syntax.mjs) point at the source.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAlgorithmTable } from './algorithm-table.mjs';
import { checkComposed, checkFragments, tokenize } from './lua-fragments.mjs';

const HELPERS = ['rcall', 'rpcall', 'floor', 'ceil', 'max', 'min', 'tonumber', 'match', 'fmt', 'type', 'now_us', 'now_ms'];
/** Declared by lua/policy.lua's @policy fragment. */
const POLICY = ['key', 'algorithm', 'L', 'W', 'B', 'c', 'give', 'give_h', 'give_s', 'renew', 'debt', 'lease', 'block_at', 'block_for', 'shadow'];
const STATE = ['ok', 'retry', 'dirty', 'x1', 'x2', 'x3'];
/**
 * The names that lua/decide.lua (and lua/policy.lua's @policy) give the fragments spliced at each
 * marker: all a fragment may use besides its own locals and the allowed Lua globals.
 */
export const PROVIDED = {
  policy: [...HELPERS, 'P', 'arg_at', 'key_at'],
  check: [...HELPERS, ...POLICY, ...STATE],
  finish: [...HELPERS, ...POLICY, ...STATE, 'block', 'all_allowed', 'charge', 'remaining', 'reset', 'handle', 'handle_s'],
};

const GENERATED = 'scripts/lua-compose.mjs';

/** The lines of lua/<name>.lua, each `{ text, at: 'lua/<name>.lua:<line>' }`. */
function readLines(root, name) {
  const file = `lua/${name}.lua`;
  return readFileSync(join(root, file), 'utf8')
    .split('\n')
    .map((text, i) => ({ text, at: `${file}:${i + 1}` }));
}

function trimEnd(lines) {
  let end = lines.length;
  while (end > 0 && lines[end - 1].text.trim() === '') end--;
  return lines.slice(0, end);
}

/** The fragments of a module, by marker: the lines after each `-- @<marker>` line. */
function fragments(root, name) {
  const found = {};
  const preamble = [];
  let current;
  for (const line of readLines(root, name)) {
    const marker = /^-- @([a-z]+)$/.exec(line.text)?.[1];
    if (marker) found[marker] = current = { marker, lines: [] };
    else (current?.lines ?? preamble).push(line);
  }
  if (tokenize(preamble.map((l) => l.text).join('\n')).length > 0) {
    throw new Error(`lua/${name}.lua: code before the first '-- @' marker would never run`);
  }
  for (const fragment of Object.values(found)) fragment.lines = trimEnd(fragment.lines);
  return found;
}

const indent = (lines, by) => lines.map((l) => ({ ...l, text: l.text ? by + l.text : l.text }));

/**
 * The composed script, as `{ source, lines }` (`lines[i].at` says where line i + 1 came from).
 * Throws if a fragment is missing or uses a name it may not (scripts/lua-fragments.mjs).
 */
export function composeDecideScript(root) {
  // One module per row of the algorithm table, dispatched on its code.
  const table = loadAlgorithmTable(root);
  const modules = table.map(({ name }) => {
    const found = fragments(root, name);
    if (!found.check || !found.finish) throw new Error(`lua/${name}.lua must hold a '-- @check' then a '-- @finish' fragment`);
    return found;
  });
  const policy = fragments(root, 'policy');
  for (const marker of Object.keys(PROVIDED)) {
    if (!policy[marker]) throw new Error(`lua/policy.lua lacks the '-- @${marker}' fragment`);
  }
  checkFragments([...modules.flatMap((m) => [m.check, m.finish]), ...Object.values(policy)], PROVIDED);

  const branches = (marker) => [
    ...modules.flatMap((m, i) => [{ text: `${i === 0 ? 'if' : 'elseif'} algorithm == ${table[i].code} then`, at: GENERATED }, ...indent(m[marker].lines, '  ')]),
    { text: 'end', at: GENERATED },
  ];
  const spliced = {
    policy: policy.policy.lines,
    check: [...branches('check'), ...policy.check.lines],
    finish: [...branches('finish'), ...policy.finish.lines],
  };

  // lua/decide.lua without its header comment; every marker line is replaced by its fragment, at
  // the marker's indentation.
  const main = readLines(root, 'decide');
  const body = main[0].text.startsWith('--[[') ? main.slice(main.findIndex((l) => l.text.includes(']]')) + 1) : main;
  const lines = [];
  const seen = new Set();
  for (const line of body) {
    const [, by, marker] = /^( *)-- @([a-z]+)$/.exec(line.text) ?? [];
    if (marker === undefined) {
      lines.push(line);
    } else if (!(marker in spliced)) {
      throw new Error(`${line.at}: unknown marker -- @${marker}`);
    } else {
      seen.add(marker);
      lines.push(...indent(spliced[marker], by).map((l) => ({ ...l, at: `${l.at} (spliced at ${line.at})` })));
    }
  }
  for (const marker of Object.keys(spliced)) {
    if (!seen.has(marker)) throw new Error(`lua/decide.lua lacks the -- @${marker} marker`);
  }
  checkComposed(lines);
  return { source: lines.map((l) => l.text).join('\n'), lines };
}
