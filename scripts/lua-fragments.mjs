// The names a piece of Lua 5.1 uses without declaring them. The `decide` script is spliced
// together from fragments (scripts/lua-compose.mjs) that share variables across files; Lua reads
// an undeclared name as a global (nil, or a Redis error at run time), so the build checks every
// name instead. Scoping follows Lua's blocks; strings, numbers and comments are skipped, and so
// are field names (after `.` or `:`, and `name =` keys in a table constructor).

const KEYWORDS = new Set([
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
]);

/** The globals of Redis's Lua 5.1 that the scripts may read. */
export const LUA_GLOBALS = new Set(['redis', 'KEYS', 'ARGV', 'math', 'string', 'table', 'tonumber', 'tostring', 'type', 'unpack', 'select']);

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const LONG_OPEN = /\[(=*)\[/y;
const OPERATORS = ['...', '..', '==', '~=', '<=', '>='];

/** A flaw at a line of the source being read. */
export class LuaSourceError extends Error {
  constructor(line, reason) {
    super(`line ${line}: ${reason}`);
    this.line = line;
    this.reason = reason;
  }
}

const at = (regex, source, pos) => {
  regex.lastIndex = pos;
  return regex.exec(source);
};

/**
 * The names, keywords and operators of `source`, each with its line (counted from `firstLine`).
 * Throws on an unfinished string or comment.
 */
export function tokenize(source, firstLine = 1) {
  const tokens = [];
  let pos = 0;
  let line = firstLine;
  /** Skips a long string or comment opened at `pos` (`[[`, `[==[`...); false if none opens there. */
  const skipLong = () => {
    const open = at(LONG_OPEN, source, pos);
    if (!open) return false;
    const close = source.indexOf(`]${open[1]}]`, pos + open[0].length);
    if (close < 0) throw new LuaSourceError(line, `unfinished long string or comment`);
    const end = close + open[1].length + 2;
    for (let i = pos; i < end; i++) if (source[i] === '\n') line++;
    pos = end;
    return true;
  };
  while (pos < source.length) {
    const ch = source[pos];
    if (ch === '\n') {
      line++;
      pos++;
    } else if (/\s/.test(ch)) {
      pos++;
    } else if (source.startsWith('--', pos)) {
      pos += 2;
      if (!skipLong()) {
        const end = source.indexOf('\n', pos);
        pos = end < 0 ? source.length : end;
      }
    } else if (ch === '"' || ch === "'") {
      const startLine = line;
      pos++;
      while (source[pos] !== ch) {
        if (pos >= source.length || source[pos] === '\n') throw new LuaSourceError(startLine, `unfinished string`);
        if (source[pos] === '\\') {
          pos++;
          if (source[pos] === '\n') line++;
        }
        pos++;
      }
      pos++;
    } else if (ch === '[' && skipLong()) {
      // a long string
    } else if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(source[pos + 1] ?? ''))) {
      pos += at(NUMBER, source, pos)[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const name = at(NAME, source, pos)[0];
      tokens.push({ text: name, line, name: !KEYWORDS.has(name) });
      pos += name.length;
    } else {
      const op = OPERATORS.find((o) => source.startsWith(o, pos)) ?? ch;
      tokens.push({ text: op, line, name: false });
      pos += op.length;
    }
  }
  return tokens;
}

const CLOSING = { ')': '(', ']': '[', '}': '{' };

/**
 * Every use (read or assignment) in `source` of a name that is neither declared before it in an
 * enclosing block (`local`, a `for` variable, a parameter) nor in `known`, as `{ name, line }`.
 * Throws on unbalanced blocks or brackets: a fragment must be whole statements.
 */
export function undeclaredNames(source, known, firstLine = 1) {
  const tokens = tokenize(source, firstLine);
  // Blocks, function bodies and brackets, innermost last; only blocks and functions declare names.
  const frames = [{ kind: 'block', opener: undefined, names: new Set() }];
  const found = [];
  const declared = (name) => known.has(name) || frames.some((f) => f.names.has(name));
  const use = (token) => {
    if (!declared(token.text)) found.push({ name: token.text, line: token.line });
  };
  const open = (kind, opener, names = new Set()) => frames.push({ kind, opener, names });
  const close = (token, kinds) => {
    const frame = frames.pop();
    if (frames.length === 0 || !kinds.includes(frame.kind)) throw new LuaSourceError(token.line, `unexpected '${token.text}'`);
  };
  let loopNames;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const { text } = token;
    if (token.name) {
      const prev = tokens[i - 1]?.text;
      const isField = prev === '.' || prev === ':' || (frames.at(-1).kind === '{' && tokens[i + 1]?.text === '=');
      if (!isField) use(token);
      continue;
    }
    switch (text) {
      case '(':
      case '[':
      case '{':
        open(text, token);
        break;
      case ')':
      case ']':
      case '}':
        close(token, [CLOSING[text]]);
        break;
      case 'local': {
        // Visible from here on (Lua makes them visible after the statement: close enough).
        if (tokens[i + 1]?.text === 'function') {
          frames.at(-1).names.add(tokens[i + 2]?.text);
          break;
        }
        while (tokens[i + 1]?.name) {
          frames.at(-1).names.add(tokens[++i].text);
          if (tokens[i + 1]?.text !== ',') break;
          i++;
        }
        break;
      }
      case 'for':
        loopNames = new Set();
        while (tokens[i + 1]?.name) {
          loopNames.add(tokens[++i].text);
          if (tokens[i + 1]?.text !== ',') break;
          i++;
        }
        break;
      case 'function': {
        const params = new Set();
        if (tokens[i + 1]?.name) {
          use(tokens[++i]);
          while (tokens[i + 1]?.text === '.' || tokens[i + 1]?.text === ':') {
            if (tokens[i + 1].text === ':') params.add('self');
            i += 2;
          }
        }
        if (tokens[i + 1]?.text !== '(') throw new LuaSourceError(token.line, `expected '(' after function`);
        for (i += 2; i < tokens.length && tokens[i].text !== ')'; i++) if (tokens[i].name) params.add(tokens[i].text);
        open('function', token, params);
        break;
      }
      case 'do':
        open('block', token, loopNames);
        loopNames = undefined;
        break;
      case 'then':
      case 'repeat':
        open('block', token);
        break;
      case 'elseif':
        close(token, ['block']);
        break;
      case 'else':
        close(token, ['block']);
        open('block', token);
        break;
      case 'end':
        close(token, ['block', 'function']);
        break;
      case 'until':
        close(token, ['block']);
        break;
      default:
        break;
    }
  }
  if (frames.length > 1) {
    const { opener } = frames.at(-1);
    throw new LuaSourceError(opener.line, `'${opener.text}' is never closed`);
  }
  return found;
}

/**
 * `file:line: problem` for each name that `lines` (each `{ text, at: 'file:line' }`) use without
 * declaring, and that `known` does not hold either; `what` names the lines in the message.
 */
function undeclaredIn(lines, known, what) {
  try {
    const source = lines.map((l) => l.text).join('\n');
    return undeclaredNames(source, known).map(({ name, line }) => `${lines[line - 1].at}: '${name}' is ${what}`);
  } catch (error) {
    if (!(error instanceof LuaSourceError)) throw error;
    return [`${lines[error.line - 1]?.at ?? lines[0]?.at}: ${error.reason}`];
  }
}

const fail = (problems) => {
  if (problems.length) throw new Error(`Lua names:\n  ${problems.join('\n  ')}`);
};

/**
 * Throws, naming every file:line, if a fragment (`{ marker, lines }`) uses a name it does not
 * declare itself and that is neither in `provided[marker]` nor one of LUA_GLOBALS.
 */
export function checkFragments(fragments, provided) {
  fail(
    fragments.flatMap(({ marker, lines }) =>
      undeclaredIn(lines, new Set([...LUA_GLOBALS, ...(provided[marker] ?? [])]), `neither declared in this -- @${marker} fragment nor provided to it`),
    ),
  );
}

/**
 * Throws, naming every file:line, if the composed script uses a name that is not in scope where
 * it is used (so the names provided to fragments really are declared where they are spliced).
 */
export function checkComposed(lines) {
  fail(undeclaredIn(lines, LUA_GLOBALS, 'not declared where the composed script uses it'));
}
