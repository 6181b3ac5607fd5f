import { afterEach, describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeDecideScript } from '../../scripts/lua-compose.mjs';
import { checkComposed, checkFragments, type LuaLine } from '../../scripts/lua-fragments.mjs';

const root = join(import.meta.dirname, '..', '..');

/** A fragment of `file` whose first line is line `first` of that file. */
const fragment = (marker: string, code: string, file = 'lua/example.lua', first = 10) => ({
  marker,
  lines: code.split('\n').map((text, i): LuaLine => ({ text, at: `${file}:${first + i}` })),
});

const errorOf = (run: () => void): string => {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
};

describe('the fragment name check', () => {
  it('names the file and line of every name a fragment neither declares nor is provided', () => {
    const code = ['local v = rcall(\'GET\', key)', 'if v then', '  x1 = tonumber(v) + offset', 'end', 'leaked = x1'].join('\n');
    const message = errorOf(() => checkFragments([fragment('check', code)], { check: ['rcall', 'key', 'x1'] }));
    expect(message).toContain("lua/example.lua:12: 'offset' is neither declared in this -- @check fragment nor provided to it");
    expect(message).toContain("lua/example.lua:14: 'leaked'");
    expect(message).not.toMatch(/'(v|rcall|key|x1|tonumber)'/);
  });

  it('checks each fragment against the names provided to its own marker', () => {
    const message = errorOf(() => checkFragments([fragment('check', 'x = charge'), fragment('finish', 'x = charge', 'lua/example.lua', 20)], { check: ['x'], finish: ['x', 'charge'] }));
    expect(message).toContain("lua/example.lua:10: 'charge'");
    expect(message).not.toContain('lua/example.lua:20');
  });

  it('skips strings, comments, fields, methods and table keys, and knows locals, loop variables and parameters', () => {
    const code = [
      "local s = 'undeclared' .. \"also \\\" undeclared\" .. [[ and [=[ this ]=] too ]]",
      '-- undeclared in a comment',
      '--[==[ undeclared',
      '  in a long comment ]==]',
      'local t = { size = 1, [s] = s:upper(), nested = { deep = string.len(s) } }',
      'for i, entry in ipairs(t) do t[i] = entry.size end',
      'for j = 1, #t do t[j] = j end',
      'local function twice(n, ...) return n * 2, select(\'#\', ...) end',
      'local f = function(a) return twice(a) end',
      'local x = t.size + f(1) + 0x1F + 1.5e3',
    ].join('\n');
    expect(() => checkFragments([fragment('check', code)], { check: ['ipairs'] })).not.toThrow();
  });

  it('ends a local with its block', () => {
    const code = ['if ok then', '  local inner = 1', 'else', '  retry = inner', 'end', 'retry = inner'].join('\n');
    const message = errorOf(() => checkFragments([fragment('check', code)], { check: ['ok', 'retry'] }));
    expect(message).toContain("lua/example.lua:13: 'inner'");
    expect(message).toContain("lua/example.lua:15: 'inner'");
  });

  it('reports an unfinished block or string at its line', () => {
    expect(errorOf(() => checkFragments([fragment('check', 'if ok then\n  ok = false')], { check: ['ok'] }))).toContain("lua/example.lua:10: 'then' is never closed");
    expect(errorOf(() => checkFragments([fragment('check', "ok = true\nok = 'open")], { check: ['ok'] }))).toContain('lua/example.lua:11: unfinished string');
  });

  it('checks the composed script for names out of scope where they are spliced', () => {
    const lines: LuaLine[] = ['if a then', '  local charge = 1', 'end', 'return charge'].map((text, i) => ({ text, at: `lua/spliced.lua:${i + 1}` }));
    expect(errorOf(() => checkComposed(lines))).toContain("lua/spliced.lua:1: 'a' is not declared where the composed script uses it");
    expect(errorOf(() => checkComposed(lines))).toContain("lua/spliced.lua:4: 'charge'");
  });
});

describe('the build', () => {
  let copy: string | undefined;
  afterEach(() => {
    if (copy) rmSync(copy, { recursive: true, force: true });
    copy = undefined;
  });

  it('composes lua/ with every name declared', () => {
    const { source, lines } = composeDecideScript(root);
    expect(source.split('\n')).toHaveLength(lines.length);
    expect(source).toContain('algorithm == 5');
  });

  it('fails naming the module and line of a name an algorithm module never declares', () => {
    copy = mkdtempSync(join(tmpdir(), 'rl-lua-'));
    cpSync(join(root, 'lua'), join(copy, 'lua'), { recursive: true });
    cpSync(join(root, 'lib', 'algorithms'), join(copy, 'lib', 'algorithms'), { recursive: true });
    const file = join(copy, 'lua', 'gcra.lua');
    const lines = readFileSync(file, 'utf8').split('\n');
    const at = lines.indexOf('-- @finish') + 1;
    lines.splice(at, 0, 'x3 = x3 + drift_us');
    writeFileSync(file, lines.join('\n'));
    expect(errorOf(() => composeDecideScript(copy!))).toContain(`lua/gcra.lua:${at + 1}: 'drift_us' is neither declared in this -- @finish fragment nor provided to it`);
  });
});
