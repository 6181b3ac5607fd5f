// Types of scripts/lua-compose.mjs, for the tests.
import type { LuaLine } from './lua-fragments.mjs';

export declare const PROVIDED: Readonly<Record<'policy' | 'check' | 'finish', readonly string[]>>;
export declare function composeDecideScript(root: string): { source: string; lines: LuaLine[] };
