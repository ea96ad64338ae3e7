// A text prefilter for tree scans: which files can hold a finding at all. It must only ever say "no"
// for files the full checker would pass (a superset of the checker's candidates), so it looks for the
// names through which a frag-typed expression can be reached, and a field access or bvec use near them.
import { Env } from './env';
import { fieldNames, type Era } from './era';
import type { DeclSet } from './types';

export interface PrefilterSpec {
  /** Tokens of which a candidate file must contain one (byte search). */
  tokens: string[];
  /** Identifiers whose mention can make an expression frag-typed (types, members, functions, macros). */
  names: string[];
  /** Type names that are skb_frag_t (for local declarations). */
  typeNames: string[];
  /** Functions taking a struct bio_vec *. */
  bvecFuncs: string[];
  /** Function-like macros touching a frag field of a parameter. */
  fieldMacros: string[];
  fields: string[];
}

/** Derive the prefilter's vocabulary from the header index and the era. */
export function prefilterSpec(decls: DeclSet, era: Era, builtinBvec: string[]): PrefilterSpec {
  const env = new Env([decls]);
  const typeNames = new Set(['skb_frag_t', 'skb_frag_struct', 'skb_frag']);
  for (const [name, t] of Object.entries(decls.typedefs)) if (env.fragLevel(t) !== null) typeNames.add(name);
  const names = new Set<string>(typeNames);
  for (const members of Object.values(decls.structs)) {
    for (const [name, t] of Object.entries(members)) if (env.fragLevel(t) !== null) names.add(name);
  }
  for (const [name, t] of Object.entries(decls.vars)) if (env.fragLevel(t) !== null) names.add(name);
  for (const [name, f] of Object.entries(decls.funcs)) if (env.fragLevel(f.ret) !== null) names.add(name);
  const fields = fieldNames(era);
  const fieldRe = new RegExp(`(->|\\.)\\s*(${fields.join('|')})\\b`);
  const fieldMacros: string[] = [];
  // Macros whose body mentions a frag name are frag sources themselves (two rounds cover nesting).
  for (let round = 0; round < 2; round++) {
    const re = wordsRe([...names]);
    for (const [name, m] of Object.entries(decls.macros)) {
      if (!names.has(name) && re.test(m.body)) names.add(name);
      if (round === 0 && m.params && m.params.length > 0 && fieldRe.test(m.body)) fieldMacros.push(name);
    }
  }
  const bvec = new Set(builtinBvec);
  for (const [name, f] of Object.entries(decls.funcs)) if (f.params.some((p) => env.isBioVecPtr(p))) bvec.add(name);
  const tokens = new Set<string>(['frag']);
  for (const n of names) if (!n.includes('frag')) tokens.add(n);
  return { tokens: [...tokens], names: [...names], typeNames: [...typeNames], bvecFuncs: [...bvec], fieldMacros, fields };
}

export function wordsRe(words: string[], flags = ''): RegExp {
  const w = words.filter((x) => /^\w+$/.test(x));
  return new RegExp(w.length ? `\\b(?:${w.join('|')})\\b` : '(?!)', flags);
}

export class Prefilter {
  private readonly tokenBufs: Buffer[];
  private readonly namesRe: RegExp;
  private readonly fieldRe: RegExp;
  private readonly bvecRe: RegExp;
  private readonly macroRe: RegExp;
  private readonly defineFieldRe: RegExp;

  constructor(readonly spec: PrefilterSpec) {
    this.tokenBufs = spec.tokens.map((t) => Buffer.from(t));
    this.namesRe = wordsRe(spec.names);
    this.fieldRe = new RegExp(`(?:->|\\.)\\s*(?:${spec.fields.join('|')})\\b`, 'g');
    this.bvecRe = new RegExp(`\\bbio_vec\\b|\\b(?:${spec.bvecFuncs.filter((x) => /^\w+$/.test(x)).join('|') || '(?!)'})\\s*\\(`);
    this.macroRe = new RegExp(`\\b(?:${spec.fieldMacros.filter((x) => /^\w+$/.test(x)).join('|') || '(?!)'})\\s*\\(`);
    this.defineFieldRe = new RegExp(`^[ \\t]*#[ \\t]*define[^\\n]*(?:\\\\\\r?\\n[^\\n]*)*?(?:->|\\.)\\s*(?:${spec.fields.join('|')})\\b`, 'm');
  }

  /** Cheap first stage on the raw bytes. */
  mayMatch(buf: Buffer): boolean {
    for (const t of this.tokenBufs) if (buf.indexOf(t) !== -1) return true;
    return false;
  }

  /** A test for "this text mentions a name through which a frag can be reached". */
  mentioner(texts: string[]): (s: string) => boolean {
    const local = localFragNames(texts, this.spec.typeNames);
    const localRe = local.size ? wordsRe([...local]) : null;
    return (s: string) => this.namesRe.test(s) || (localRe !== null && localRe.test(s));
  }

  /** Second stage on the text (plus the texts of the file's local headers). */
  isCandidate(text: string, localHeaders: string[] = []): boolean {
    const mentions = this.mentioner([text, ...localHeaders]);
    if (!mentions(text)) return false;
    if (this.bvecRe.test(text) || this.macroRe.test(text) || this.defineFieldRe.test(text)) return true;
    this.fieldRe.lastIndex = 0;
    for (let m = this.fieldRe.exec(text); m; m = this.fieldRe.exec(text)) {
      if (mentions(statementBefore(text, m.index, 0))) return true;
    }
    return false;
  }
}

/** The text of the statement leading up to `index` (back to `;`, `{` or `}`, at most 600 chars). */
export function statementBefore(text: string, index: number, floor: number): string {
  const window = text.slice(Math.max(floor, index - 600), index);
  const cut = Math.max(window.lastIndexOf(';'), window.lastIndexOf('{'), window.lastIndexOf('}'));
  return window.slice(cut + 1);
}

/** Names declared with a frag type in these texts (aliases of skb_frag_t followed one level). */
export function localFragNames(texts: string[], typeNames: string[]): Set<string> {
  const local = new Set<string>();
  const types = new Set(typeNames);
  for (let round = 0; round < 3; round++) {
    const typeRe = wordsRe([...types], 'g');
    for (const t of texts) collectDeclared(t, typeRe, local);
    // `typedef skb_frag_t foo;` makes foo a type name too.
    const before = types.size;
    const aliasRe = new RegExp(`typedef\\s+(?:const\\s+)?(?:struct\\s+)?${typeRe.source}[\\s*]*(\\w+)\\s*;`, 'g');
    for (const t of texts) for (const m of t.matchAll(aliasRe)) types.add(m[1]);
    if (types.size === before) break;
  }
  return local;
}

/** Names declared right after a frag type name in `text` (variables, members, params, functions). */
export function collectDeclared(text: string, typeRe: RegExp, into: Set<string>): void {
  typeRe.lastIndex = 0;
  for (let m = typeRe.exec(text); m; m = typeRe.exec(text)) {
    const rest = text.slice(m.index + m[0].length, m.index + m[0].length + 300);
    const stop = rest.search(/[;(){}=]/);
    const decl = stop === -1 ? rest : rest.slice(0, stop);
    for (const piece of decl.split(',')) {
      const id = /^[\s*]*(?:(?:const|volatile|restrict|__\w+)\b[\s*]*)*([A-Za-z_]\w*)/.exec(piece);
      if (id) into.add(id[1]);
    }
  }
}
