// A dump of schema A replayed as schema B, by rewriting the archive's SQL with a tokenizer instead of
// a scratch-database round trip (restore, ALTER SCHEMA RENAME, dump again). It is the same rewrite
// ALTER SCHEMA RENAME does, and refuses whatever it cannot prove to be that:
//
// - pg_dump runs with search_path '' and names every object of the schema qualified (`a.t`,
//   `a.t.col`, `'a.t'::regclass`, `setval('a.t_seq', …)`), and the schema itself after the keyword
//   SCHEMA (CREATE/ALTER/COMMENT ON/GRANT ON/IN SCHEMA a). Those tokens are renamed; string literals,
//   dollar-quoted bodies and comments are copied untouched (they are text, as they are to the server).
// - The name as a qualifier could also be a table or alias of that name (`SELECT a.x FROM a.a`); such
//   a name is always introduced somewhere unqualified, so any occurrence of A in another position
//   (other than a role after OWNER TO / GRANT … TO / REVOKE … FROM / FOR ROLE) refuses the rewrite.
// - Values of reg* types name objects in text and are re-read on load: a column, domain or cast to a
//   reg* type anywhere except a constant ('…'::regclass, which is rewritten) refuses the rewrite.
// - Function bodies and settings that name A in text would keep reading the original schema: refused
//   as a text self-reference, exactly like a clone (SchemaTextReferenceError).
import { quoteIdent, quoteLiteral } from '../db/ident.ts';
import type { TocEntry } from './archive-toc.ts';
import { namesSchema } from './catalog.ts';

/** The rewrite cannot be proven correct for this dump (not a refusal of the restore itself). */
export class NotRenameableError extends Error {}

/** Function definitions in the dump name the source schema in text. */
export class TextSelfReferenceError extends Error {
  constructor(readonly functions: string[]) {
    super(`functions name the schema in text: ${functions.join(', ')}`);
  }
}

type Kind = 'ws' | 'comment' | 'ident' | 'qident' | 'string' | 'xstring' | 'dollar' | 'number' | 'op' | 'param';
interface Token {
  kind: Kind;
  text: string;
  /** ident: lower-cased; qident: unquoted; string: the literal's value; dollar: the body. */
  value: string;
}

// Sticky patterns, matched at the current position (the tokenizer runs over every definition).
const WS = /\s+/y;
const LINE_COMMENT = /--[^\n]*/y;
const IDENT = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const NUMBER = /(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const PARAM = /\$[0-9]+/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

function match(re: RegExp, sql: string, i: number): string | null {
  re.lastIndex = i;
  const m = re.exec(sql);
  return m ? m[0] : null;
}

export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: Kind, start: number, value?: string) => out.push({ kind, text: sql.slice(start, i), value: value ?? sql.slice(start, i) });
  while (i < n) {
    const c = sql[i]!;
    const start = i;
    let m: string | null;
    if ((m = match(WS, sql, i))) {
      i += m.length;
      push('ws', start);
    } else if (c === '-' && sql[i + 1] === '-') {
      i += match(LINE_COMMENT, sql, i)!.length;
      push('comment', start);
    } else if (c === '/' && sql[i + 1] === '*') {
      let depth = 0;
      do {
        if (sql.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (sql.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      } while (depth > 0 && i < n);
      if (depth > 0) throw new NotRenameableError('unterminated comment');
      push('comment', start);
    } else if (c === "'" || ((c === 'E' || c === 'e' || c === 'B' || c === 'b' || c === 'X' || c === 'x') && sql[i + 1] === "'")) {
      const escaped = c === 'E' || c === 'e';
      const other = c !== "'";
      i += other ? 2 : 1;
      const parts: string[] = [];
      for (;;) {
        const quote = sql.indexOf("'", i);
        if (quote < 0) throw new NotRenameableError('unterminated string literal');
        if (escaped) {
          // Backslash escapes: walk this stretch for a backslash before the quote.
          const bs = sql.indexOf('\\', i);
          if (bs >= 0 && bs < quote) {
            parts.push(sql.slice(i, bs + 2));
            i = bs + 2;
            continue;
          }
        }
        parts.push(sql.slice(i, quote));
        if (sql[quote + 1] === "'") {
          parts.push("'");
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      push(other ? 'xstring' : 'string', start, parts.join(''));
    } else if ((c === 'U' || c === 'u') && sql[i + 1] === '&') {
      throw new NotRenameableError('Unicode-escaped literal or identifier');
    } else if (c === '"') {
      i++;
      const parts: string[] = [];
      for (;;) {
        const quote = sql.indexOf('"', i);
        if (quote < 0) throw new NotRenameableError('unterminated quoted identifier');
        parts.push(sql.slice(i, quote));
        if (sql[quote + 1] === '"') {
          parts.push('"');
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      push('qident', start, parts.join(''));
    } else if ((m = match(PARAM, sql, i))) {
      i += m.length;
      push('param', start);
    } else if (c === '$') {
      const tag = match(DOLLAR_TAG, sql, i);
      if (!tag) throw new NotRenameableError('stray $');
      const end = sql.indexOf(tag, i + tag.length);
      if (end < 0) throw new NotRenameableError('unterminated dollar-quoted string');
      const body = sql.slice(i + tag.length, end);
      i = end + tag.length;
      push('dollar', start, body);
    } else if ((m = match(IDENT, sql, i))) {
      i += m.length;
      push('ident', start, m.toLowerCase());
    } else if ((m = match(NUMBER, sql, i))) {
      i += m.length;
      push('number', start);
    } else if (c === ':' && sql[i + 1] === ':') {
      i += 2;
      push('op', start);
    } else {
      i++;
      push('op', start);
    }
  }
  return out;
}

const REG_TYPES = new Set([
  'regclass', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regtype', 'regconfig', 'regdictionary', 'regnamespace', 'regcollation',
]);
const SCHEMA_KEYWORD_BEFORE = new Set(['create', 'alter', 'on', 'in', 'drop', 'with', 'set']);

function isName(t: Token | undefined, name: string): boolean {
  return !!t && (t.kind === 'ident' || t.kind === 'qident') && t.value === name;
}
const kw = (t: Token | undefined, word: string) => !!t && t.kind === 'ident' && t.value === word;

class Renamer {
  constructor(
    readonly from: string,
    readonly to: string,
  ) {}

  /** The SQL with every reference to the schema renamed; throws NotRenameableError. */
  sql(text: string): string {
    const all = tokenize(text);
    const sig = all.filter((t) => t.kind !== 'ws' && t.kind !== 'comment');
    const statementStart = new Array<Token | undefined>(sig.length);
    let first: Token | undefined;
    for (let k = 0; k < sig.length; k++) {
      if (!first) first = sig[k];
      statementStart[k] = first;
      if (sig[k]!.kind === 'op' && sig[k]!.text === ';') first = undefined;
    }
    const replace = new Map<Token, string>();
    for (let k = 0; k < sig.length; k++) {
      const t = sig[k]!;
      if ((t.kind === 'ident' || t.kind === 'qident') && t.value === this.from) {
        if (this.isSchemaPosition(sig, k)) replace.set(t, quoteIdent(this.to));
        else if (!this.isRolePosition(sig, k, statementStart[k])) {
          throw new NotRenameableError(`the name ${JSON.stringify(this.from)} is also used for something other than the schema`);
        }
        continue;
      }
      if (t.kind === 'ident' && REG_TYPES.has(t.value)) {
        const lit = sig[k - 2];
        if (!(sig[k - 1]?.text === '::' && lit?.kind === 'string')) {
          throw new NotRenameableError(`values of type ${t.value} (object names stored as text) outside constants`);
        }
        const renamed = this.regLiteral(lit.value, t.value);
        if (renamed !== lit.value) replace.set(lit, quoteLiteral(renamed));
        continue;
      }
      if (t.kind === 'string' && kw(sig[k - 4], 'pg_catalog') && sig[k - 3]?.text === '.' && kw(sig[k - 2], 'setval') && sig[k - 1]?.text === '(') {
        const renamed = this.regLiteral(t.value, 'regclass');
        if (renamed !== t.value) replace.set(t, quoteLiteral(renamed));
      }
    }
    if (replace.size === 0) return text;
    return all.map((t) => replace.get(t) ?? t.text).join('');
  }

  private isSchemaPosition(sig: Token[], k: number): boolean {
    if (sig[k + 1]?.kind === 'op' && sig[k + 1]!.text === '.') return true;
    let j = k - 1;
    if (kw(sig[j], 'exists')) {
      j--;
      if (kw(sig[j], 'not')) j--;
      if (!kw(sig[j], 'if')) return false;
      j--;
    }
    return kw(sig[j], 'schema') && sig[j - 1]?.kind === 'ident' && SCHEMA_KEYWORD_BEFORE.has(sig[j - 1]!.value);
  }

  private isRolePosition(sig: Token[], k: number, start: Token | undefined): boolean {
    const prev = sig[k - 1];
    if (kw(prev, 'to') && kw(sig[k - 2], 'owner')) return true;
    if (kw(prev, 'role') && kw(sig[k - 2], 'for')) return true;
    if (kw(prev, 'by') && kw(sig[k - 2], 'granted')) return true;
    const grant = kw(start, 'grant') || kw(start, 'revoke');
    return grant && (kw(prev, 'to') || kw(prev, 'from') || sig[k - 1]?.text === ',');
  }

  /** The text of a reg* constant ('a.t', 'a.f(integer)', 'a' for regnamespace) with the schema renamed. */
  private regLiteral(value: string, type: string): string {
    if (type === 'regnamespace') {
      const toks = tokenize(value).filter((t) => t.kind !== 'ws');
      if (toks.length === 1 && isName(toks[0], this.from)) return quoteIdent(this.to);
      if (toks.some((t) => isName(t, this.from))) throw new NotRenameableError('a regnamespace constant the rewrite cannot read');
      return value;
    }
    return this.sqlInLiteral(value);
  }

  private sqlInLiteral(value: string): string {
    const all = tokenize(value);
    const sig = all.filter((t) => t.kind !== 'ws');
    const replace = new Map<Token, string>();
    for (let k = 0; k < sig.length; k++) {
      if (!isName(sig[k], this.from)) continue;
      if (sig[k + 1]?.text !== '.') throw new NotRenameableError(`a reg* constant names ${JSON.stringify(this.from)} other than as its schema`);
      replace.set(sig[k]!, quoteIdent(this.to));
    }
    return replace.size ? all.map((t) => replace.get(t) ?? t.text).join('') : value;
  }
}

const FUNCTION_DESCS = new Set(['FUNCTION', 'PROCEDURE', 'AGGREGATE']);
// Not replayed without --create (which a restore never uses): left as they are.
const DATABASE_DESCS = new Set(['DATABASE', 'DATABASE PROPERTIES']);

/**
 * The archive's entries as a dump of schema `to`. Throws TextSelfReferenceError when function
 * definitions name `from` in text, NotRenameableError when the rewrite cannot be proven.
 */
export function renameArchiveEntries(entries: TocEntry[], from: string, to: string): TocEntry[] {
  const stdStrings = entries.find((e) => e.desc === 'STDSTRINGS');
  if (!stdStrings || !/'on'/.test(stdStrings.defn ?? '')) throw new NotRenameableError('the dump was not made with standard_conforming_strings on');
  const selfReferences = entries
    .filter((e) => FUNCTION_DESCS.has(e.desc ?? '') && e.namespace === from)
    .filter((e) => tokenize(e.defn ?? '').some((t) => (t.kind === 'string' || t.kind === 'xstring' || t.kind === 'dollar') && namesSchema(t.value, from)))
    .map((e) => e.tag ?? String(e.dumpId));
  if (selfReferences.length > 0) throw new TextSelfReferenceError(selfReferences);
  const renamer = new Renamer(from, to);
  const tagForms = new Set([`SCHEMA ${from}`, `SCHEMA ${quoteIdent(from)}`]);
  return entries.map((e) => {
    if (DATABASE_DESCS.has(e.desc ?? '')) return e;
    return {
      ...e,
      tag: e.desc === 'SCHEMA' && e.tag === from ? to : e.tag && tagForms.has(e.tag) ? `SCHEMA ${quoteIdent(to)}` : e.tag,
      namespace: e.namespace === from ? to : e.namespace,
      defn: e.defn === null ? null : renamer.sql(e.defn),
      dropStmt: e.dropStmt === null ? null : renamer.sql(e.dropStmt),
      copyStmt: e.copyStmt === null ? null : renamer.sql(e.copyStmt),
    };
  });
}
