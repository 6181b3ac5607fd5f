// Types of scripts/lua-fragments.mjs, for the tests.
export interface LuaLine {
  text: string;
  /** Where the line comes from, as `file:line`. */
  at: string;
}
export interface LuaToken {
  text: string;
  line: number;
  /** A name (not a keyword or an operator). */
  name: boolean;
}
export declare class LuaSourceError extends Error {
  readonly line: number;
  readonly reason: string;
  constructor(line: number, reason: string);
}
export declare const LUA_GLOBALS: ReadonlySet<string>;
export declare function tokenize(source: string, firstLine?: number): LuaToken[];
export declare function undeclaredNames(source: string, known: ReadonlySet<string>, firstLine?: number): Array<{ name: string; line: number }>;
export declare function checkFragments(fragments: ReadonlyArray<{ marker: string; lines: readonly LuaLine[] }>, provided: Readonly<Record<string, readonly string[]>>): void;
export declare function checkComposed(lines: readonly LuaLine[]): void;
