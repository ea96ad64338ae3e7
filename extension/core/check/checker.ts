// The checker's entry point for both the CLI and an editor (no `vscode` here).
//
//   const checker = await createChecker({ kernelDir });
//   const { findings } = checker.checkText(path, text, { retain: true });   // per keystroke
//   checker.close(path); checker.dispose();
//
// With `retain`, the document's tree is kept: the next call diffs the old and new text and applies that
// as a `tree.edit()`. An edit inside one function's body is checked on that function parsed alone (a
// whole-tree incremental reparse costs ~7 ms on skbuff.c, whose kernel macros leave ERROR regions that
// tree-sitter reparses every time; the function alone ~0.5 ms); settle() later reparses the tree and
// re-checks those functions in context. Any other edit reparses the tree incrementally and re-checks
// the top-level function(s) that changed (everything when declarations outside function bodies did).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Edit, Node, Parser, Tree } from 'web-tree-sitter';
import { analyze, LineTable, type RawFinding } from './analyze';
import { collectDecls } from './decls';
import { BUILTIN_BVEC_FUNCS, Env } from './env';
import { Prefilter, prefilterSpec, type PrefilterSpec } from './prefilter';
import { defaultEra, fieldNames, HELPER_HOMES, type Era } from './era';
import { eraOfTree, loadOrBuildIndex, type HeaderIndex } from './index';
import { createCParser } from './parser';
import { CheckError, emptyDecls, type DeclSet, type Finding, type Position } from './types';

export interface CheckerOptions {
  /** A kernel checkout: its era, helpers and header index are used. Without it: the 5.4–6.8 layout. */
  kernelDir?: string;
  /** Where tree-sitter.wasm and tree-sitter-c.wasm are (default: the package's dist/). */
  wasmDir?: string;
  /** A prebuilt index (workers get the main thread's). */
  index?: HeaderIndex | null;
  /** The prefilter vocabulary (workers get the main thread's; default: derived from the index). */
  spec?: PrefilterSpec;
  /**
   * Do not load tree-sitter until the first check (or `ready()`): a scan's main thread only needs the
   * index and the era, the workers parse.
   */
  deferParser?: boolean;
  /** Do not build or load a header index. */
  noIndex?: boolean;
  /** Files larger than this (UTF-16 units) are skipped, not parsed. Default 8 MiB. */
  maxFileSize?: number;
  /** Give up parsing one file after this many ms. Default 20 s. */
  parseTimeoutMs?: number;
  onProgress?: (message: string) => void;
}

export interface CheckResult {
  findings: Finding[];
  /** Why the file was not checked (too large, a helper home, the parse gave up). */
  skipped?: string;
  /** Whether the last call re-checked only part of a retained document. */
  incremental?: boolean;
  /** Where the time of a retained re-check went, in ms (for benchmarks and traces). */
  phases?: CheckPhases;
}

export interface CheckPhases {
  /** Line table of the new text and the tree edit (diffing the texts when no edits were given). */
  edit: number;
  /** The incremental reparse and its changed ranges. */
  parse: number;
  /** The rules on the changed function(s), or on the whole file. */
  analyze: number;
  /** Raw findings to line/column findings. */
  findings: number;
}

export interface CheckTextOptions {
  /** Keep the tree for incremental re-checks of this path (free it with close()). */
  retain?: boolean;
  /** A tree of exactly `text` the caller made (not freed by the checker). */
  tree?: Tree;
}

export interface Checker {
  readonly era: Era;
  readonly kernelDir?: string;
  readonly index: HeaderIndex | null;
  /** The vocabulary of the text prefilter for this tree. */
  readonly spec: PrefilterSpec;
  checkText(path: string, text: string, opts?: CheckTextOptions): CheckResult;
  checkFile(path: string): CheckResult;
  /**
   * Reparse a retained document whose last re-checks parsed only the edited function, and re-check
   * what changed; `differs` says whether its findings changed by that. Undefined when there is
   * nothing to settle.
   */
  settle(path: string): (CheckResult & { differs: boolean }) | undefined;
  /** Load tree-sitter (needed before checkText when created with deferParser). */
  ready(): Promise<void>;
  close(path: string): void;
  dispose(): void;
}

interface Doc {
  text: string;
  tree: Tree;
  findings: RawFinding[];
  scope: { env: Env; mentions: (s: string) => boolean };
  lines: LineTable;
  /**
   * Edits checked on their function parsed alone since `tree` was last parsed (the tree took them,
   * not a reparse); a reparse re-checks their functions on the whole tree.
   */
  dirty: Span[];
}

interface Span {
  start: number;
  end: number;
}

interface HeaderDecls {
  size: number;
  mtimeMs: number;
  /** Null when the header cannot matter (mentions neither frag nor bio_vec): not parsed. */
  decls: DeclSet | null;
  text: string;
  includes: string[];
}

/** Local headers that mention neither are not parsed: nothing in them can type a frag. */
const HEADER_TOKENS = /frag|bio_vec/;

const INCLUDE_RE = /^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"/gm;

/** An edit: [start, oldEnd) of the old text became [start, newEnd) of the new one. */
export interface TextDiff {
  start: number;
  oldEnd: number;
  newEnd: number;
}

/** `span` of the old text in the new one after `d`: shifted when after it, stretched when it overlaps. */
export function shiftSpan(span: { start: number; end: number }, d: TextDiff): { start: number; end: number } {
  const delta = d.newEnd - d.oldEnd;
  if (span.start >= d.oldEnd) return { start: span.start + delta, end: span.end + delta };
  if (span.end <= d.start) return span;
  return { start: Math.min(span.start, d.start), end: Math.max(span.end >= d.oldEnd ? span.end + delta : d.newEnd, d.newEnd) };
}

/**
 * Whether [start, end) of `text` leaves a block comment or a preprocessor conditional open: in the
 * whole file either may reach past `end`, so that span cannot be parsed on its own.
 */
export function leavesOpen(text: string, start: number, end: number): boolean {
  const part = text.slice(start, end);
  for (let i = part.indexOf('/*'); i !== -1; ) {
    const close = part.indexOf('*/', i + 2);
    if (close === -1) return true;
    i = part.indexOf('/*', close + 2);
  }
  let depth = 0;
  for (const m of part.matchAll(/^[ \t]*#[ \t]*(if|ifdef|ifndef|endif)\b/gm)) {
    depth += m[1] === 'endif' ? -1 : 1;
    if (depth < 0) return true;
  }
  return depth !== 0;
}

/** The smallest edit turning `a` into `b` (common prefix and suffix). */
export function diffEdit(a: string, b: string): TextDiff | null {
  if (a === b) return null;
  const max = Math.min(a.length, b.length);
  let start = 0;
  // Whole chunks first (string equality is a memcmp), then characters.
  for (const step of [4096, 256, 16]) {
    while (start + step <= max && a.slice(start, start + step) === b.slice(start, start + step)) start += step;
  }
  while (start < max && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  let ea = a.length;
  let eb = b.length;
  for (const step of [4096, 256, 16]) {
    while (ea - step >= start && eb - step >= start && a.slice(ea - step, ea) === b.slice(eb - step, eb)) {
      ea -= step;
      eb -= step;
    }
  }
  while (ea > start && eb > start && a.charCodeAt(ea - 1) === b.charCodeAt(eb - 1)) {
    ea--;
    eb--;
  }
  return { start, oldEnd: ea, newEnd: eb };
}

function pointAt(lines: LineTable, index: number): { row: number; column: number } {
  const p = lines.at(index);
  return { row: p.line, column: p.col };
}

function toFinding(raw: RawFinding, lines: LineTable): Finding {
  const f: Finding = {
    file: raw.file,
    rule: raw.rule,
    message: raw.message,
    severity: raw.severity,
    range: { start: lines.at(raw.startIndex), end: lines.at(raw.endIndex) },
  };
  if (raw.helper) f.helper = raw.helper;
  if (raw.fixSpans) f.fix = raw.fixSpans.map((s) => ({ range: { start: lines.at(s.start), end: lines.at(s.end) }, newText: s.newText }));
  if (raw.viaMacro) f.viaMacro = raw.viaMacro;
  if (raw.related) f.related = raw.related;
  return f;
}

export async function createChecker(opts: CheckerOptions = {}): Promise<Checker> {
  const kernelDir = opts.kernelDir ? resolve(opts.kernelDir) : undefined;
  if (kernelDir) {
    try {
      if (!statSync(kernelDir).isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new CheckError(`kernel tree ${kernelDir}: ${(e as Error).message}`);
    }
  }
  let parserP: Parser | null = null;
  let auxP: Parser | null = null;
  const ready = async () => {
    if (!parserP) {
      const p = await createCParser(opts.wasmDir);
      const a = await createCParser(opts.wasmDir);
      if (parserP) {
        p.delete();
        a.delete();
      } else {
        parserP = p;
        auxP = a;
      }
    }
  };
  if (!opts.deferParser) await ready();
  const need = (): { parser: Parser; aux: Parser } => {
    if (!parserP || !auxP) throw new CheckError('checker used before ready()');
    return { parser: parserP, aux: auxP };
  };
  const maxFileSize = opts.maxFileSize ?? 8 * 1024 * 1024;
  const parseTimeoutMs = opts.parseTimeoutMs ?? 20_000;

  let index: HeaderIndex | null = opts.index ?? null;
  if (!index && kernelDir && !opts.noIndex) {
    index = await loadOrBuildIndex(kernelDir, {
      parser: async () => {
        await ready();
        return need().parser;
      },
      onProgress: opts.onProgress,
    });
  }
  let era: Era = defaultEra();
  if (index?.era) era = { ...index.era, helpers: new Set(index.era.helpers) };
  else if (kernelDir) era = eraOfTree(kernelDir) ?? era;
  const fieldAlt = fieldNames(era).join('|');
  const indexDecls = index?.decls ?? emptyDecls();
  // Index macros name their file relative to the tree; make those absolute once.
  if (index && kernelDir) {
    for (const m of Object.values(indexDecls.macros)) if (!isAbsolute(m.file)) m.file = join(kernelDir, m.file);
  }

  const spec = opts.spec ?? prefilterSpec(indexDecls, era, Object.keys(BUILTIN_BVEC_FUNCS));
  const prefilter = new Prefilter(spec);
  const docs = new Map<string, Doc>();
  const headerCache = new Map<string, HeaderDecls>();

  const helperHome = (path: string): string | undefined => {
    const abs = resolve(path);
    for (const h of HELPER_HOMES) {
      if (kernelDir && abs === join(kernelDir, h)) return h;
      if (abs.endsWith(sep + h)) return h;
    }
    return undefined;
  };

  const parse = (text: string, old?: Tree): Tree | null => {
    const deadline = Date.now() + parseTimeoutMs;
    return need().parser.parse(text, old ?? null, { progressCallback: () => Date.now() > deadline });
  };

  const headerDecls = (path: string, depth: number, seen: Set<string>, out: DeclSet[], texts: string[]) => {
    if (seen.has(path) || depth > 4) return;
    seen.add(path);
    let st;
    try {
      st = statSync(path);
    } catch {
      return;
    }
    if (!st.isFile() || st.size > maxFileSize) return;
    let hd = headerCache.get(path);
    if (!hd || hd.size !== st.size || hd.mtimeMs !== st.mtimeMs) {
      const text = decode(readFileSync(path));
      let decls: DeclSet | null = null;
      if (HEADER_TOKENS.test(text)) {
        const tree = need().aux.parse(text);
        decls = emptyDecls();
        if (tree) {
          try {
            collectDecls(tree.rootNode, path, decls);
          } finally {
            tree.delete();
          }
        }
      }
      hd = { size: st.size, mtimeMs: st.mtimeMs, decls, text: decls ? text : '', includes: [...text.matchAll(INCLUDE_RE)].map((m) => m[1]) };
      headerCache.set(path, hd);
    }
    if (hd.decls) {
      out.push(hd.decls);
      texts.push(hd.text);
    }
    for (const inc of hd.includes) headerDecls(resolve(dirname(path), inc), depth + 1, seen, out, texts);
  };

  const envFor = (path: string, text: string, root: Node): { env: Env; mentions: (s: string) => boolean } => {
    const own = collectDecls(root, path, emptyDecls());
    const locals: DeclSet[] = [];
    const texts: string[] = [text];
    const seen = new Set<string>([resolve(path)]);
    for (const m of text.matchAll(INCLUDE_RE)) {
      const candidates = [resolve(dirname(path), m[1])];
      if (kernelDir) candidates.push(join(kernelDir, 'include', m[1]));
      for (const c of candidates) {
        if (existsSync(c)) {
          headerDecls(c, 0, seen, locals, texts);
          break;
        }
      }
    }
    return { env: new Env([own, ...locals, indexDecls]), mentions: prefilter.mentioner(texts) };
  };

  const display = (p: string): string => (kernelDir && p.startsWith(kernelDir + sep) ? relative(kernelDir, p) : p);

  type Scope = { env: Env; mentions: (s: string) => boolean };
  const run = (path: string, text: string, tree: Tree, scope: Scope, lines: LineTable, spans?: { start: number; end: number }[]) => {
    const raws = analyze({ file: path, text, tree, env: scope.env, mentions: scope.mentions, era, aux: need().aux, fieldAlt, lines }, spans);
    for (const r of raws) {
      if (r.related) for (const rel of r.related) r.message = r.message.replace(rel.file, display(rel.file));
    }
    return raws;
  };

  const sortRaw = (a: RawFinding, b: RawFinding) => a.startIndex - b.startIndex || a.rule.localeCompare(b.rule);

  /** The top-level function definition of `tree` whose body strictly holds [start, end), with that body. */
  const enclosingFunction = (tree: Tree, start: number, end: number): { top: Node; body: Node } | null => {
    const root = tree.rootNode;
    let top: Node | null = root.descendantForIndex(start, Math.max(start, end - 1));
    while (top && top.parent && top.parent.id !== root.id) top = top.parent;
    if (!top || top.id === root.id || top.type !== 'function_definition') return null;
    const body = top.childForFieldName('body');
    if (!body || start <= body.startIndex || end >= body.endIndex) return null;
    return { top, body };
  };

  /** Top-level nodes overlapping [start, end), if all are function definitions whose body holds the edit. */
  const changedFunctions = (tree: Tree, ranges: { start: number; end: number }[]): { start: number; end: number }[] | null => {
    const out: { start: number; end: number }[] = [];
    for (const r of ranges) {
      const f = enclosingFunction(tree, r.start, r.end);
      if (!f || f.top.endIndex < r.end) return null;
      out.push({ start: f.top.startIndex, end: f.top.endIndex });
    }
    return out;
  };

  /**
   * For an edit inside the body of a top-level function of `tree`: that function's span in the new
   * text (the edit applied), else null.
   */
  const ownFunction = (tree: Tree, d: TextDiff): Span | null => {
    const f = enclosingFunction(tree, d.start, d.oldEnd);
    if (!f || f.body.endIndex !== f.top.endIndex) return null;
    return { start: f.top.startIndex, end: f.top.endIndex + d.newEnd - d.oldEnd };
  };

  /**
   * `span` of `text` parsed on its own (a tree at the document's offsets), when it is still one whole
   * function there: no comment or `#if` left open, and a definition over all of it whose body ends
   * with a real `}` at its end (a typed `}` that ends it early fails this). Else null.
   */
  const parseFunction = (text: string, lines: LineTable, span: Span): Tree | null => {
    if (leavesOpen(text, span.start, span.end)) return null;
    const includedRanges = [{ startIndex: span.start, endIndex: span.end, startPosition: pointAt(lines, span.start), endPosition: pointAt(lines, span.end) }];
    const deadline = Date.now() + parseTimeoutMs;
    const tree = need().aux.parse(text, null, { includedRanges, progressCallback: () => Date.now() > deadline });
    if (!tree) return null;
    const root = tree.rootNode;
    const fn = root.childCount === 1 ? root.child(0) : null;
    const body = fn?.type === 'function_definition' ? fn.childForFieldName('body') : null;
    const close = body?.lastChild;
    if (fn && fn.startIndex === span.start && fn.endIndex === span.end && body && body.endIndex === span.end && close?.type === '}' && !close.isMissing) return tree;
    tree.delete();
    return null;
  };

  /**
   * A full incremental reparse of `doc` (whose tree took every edit), re-checking the functions that
   * changed in it and the `dirty` spans; everything when a change is outside function bodies.
   */
  const reparse = (path: string, doc: Doc, kept: (spans: Span[]) => RawFinding[]): CheckResult => {
    const { text, lines } = doc;
    const t1 = performance.now();
    const tree = parse(text, doc.tree);
    if (!tree) {
      checker.close(path);
      return { findings: [], skipped: `parsing took longer than ${parseTimeoutMs} ms` };
    }
    const changed: Span[] = tree.getChangedRanges(doc.tree).map((r) => ({ start: r.startIndex, end: r.endIndex }));
    changed.push(...doc.dirty);
    doc.tree.delete();
    const t2 = performance.now();
    const spans = changedFunctions(tree, changed);
    let findings: RawFinding[];
    let scope = doc.scope;
    if (spans) {
      findings = [...kept(spans), ...run(path, text, tree, scope, lines, spans)].sort(sortRaw);
    } else {
      scope = envFor(path, text, tree.rootNode);
      findings = run(path, text, tree, scope, lines).sort(sortRaw);
    }
    docs.set(path, { text, tree, findings, scope, lines, dirty: [] });
    const t3 = performance.now();
    const out = findings.map((r) => toFinding(r, lines));
    return { findings: out, incremental: !!spans, phases: { edit: 0, parse: t2 - t1, analyze: t3 - t2, findings: performance.now() - t3 } };
  };

  const checker: Checker = {
    era,
    kernelDir,
    index,
    spec,
    checkText(path, text, copts = {}) {
      const home = helperHome(path);
      if (home) {
        checker.close(path);
        return { findings: [], skipped: `${home} defines skb_frag_t and its helpers: not checked` };
      }
      if (text.length > maxFileSize) {
        checker.close(path);
        return { findings: [], skipped: `too large to parse (${(text.length / 1048576).toFixed(1)} MiB > ${(maxFileSize / 1048576).toFixed(0)} MiB)` };
      }
      const t0 = performance.now();
      const lines = new LineTable(text);
      if (copts.tree) {
        const scope = envFor(path, text, copts.tree.rootNode);
        return { findings: run(path, text, copts.tree, scope, lines).sort(sortRaw).map((r) => toFinding(r, lines)) };
      }
      const prev = copts.retain ? docs.get(path) : undefined;
      if (prev && prev.text === text) return { findings: prev.findings.map((r) => toFinding(r, prev.lines)), incremental: true };
      if (prev) {
        const d = diffEdit(prev.text, text)!;
        const edit: Edit = {
          startIndex: d.start,
          oldEndIndex: d.oldEnd,
          newEndIndex: d.newEnd,
          startPosition: pointAt(prev.lines, d.start),
          oldEndPosition: pointAt(prev.lines, d.oldEnd),
          newEndPosition: pointAt(lines, d.newEnd),
        } as Edit;
        const own = ownFunction(prev.tree, d);
        prev.tree.edit(edit);
        const dirty = prev.dirty.map((s) => shiftSpan(s, d));
        const kept = (spans: Span[]) => {
          const out: RawFinding[] = [];
          for (const f of prev.findings) {
            if (f.endIndex > d.start && f.startIndex < d.oldEnd) continue;
            const g = f.startIndex >= d.oldEnd ? shift(f, d.newEnd - d.oldEnd) : f;
            if (!spans.some((s) => g.startIndex < s.end && g.endIndex > s.start)) out.push(g);
          }
          return out;
        };
        const t1 = performance.now();
        const alone = own && parseFunction(text, lines, own);
        if (alone) {
          // Checked on the function parsed alone; the retained tree only takes the edit, and is
          // reparsed (verifying this function) by settle() or the next edit outside a function body.
          const t2 = performance.now();
          let fresh: RawFinding[];
          try {
            fresh = run(path, text, alone, prev.scope, lines, [own]);
          } finally {
            alone.delete();
          }
          const findings = [...kept([own]), ...fresh].sort(sortRaw);
          docs.set(path, { text, tree: prev.tree, findings, scope: prev.scope, lines, dirty: [...dirty, { start: d.start, end: Math.max(d.newEnd, d.start + 1) }] });
          const t3 = performance.now();
          const out = findings.map((r) => toFinding(r, lines));
          return { findings: out, incremental: true, phases: { edit: t1 - t0, parse: t2 - t1, analyze: t3 - t2, findings: performance.now() - t3 } };
        }
        const r = reparse(path, { ...prev, text, lines, dirty: [...dirty, { start: d.start, end: Math.max(d.newEnd, d.start + 1) }] }, kept);
        if (r.phases) r.phases.edit = t1 - t0;
        return r;
      }
      const tree = parse(text);
      if (!tree) return { findings: [], skipped: `parsing took longer than ${parseTimeoutMs} ms` };
      let keep = false;
      try {
        const scope = envFor(path, text, tree.rootNode);
        const findings = run(path, text, tree, scope, lines).sort(sortRaw);
        if (copts.retain) {
          docs.set(path, { text, tree, findings, scope, lines, dirty: [] });
          keep = true;
        }
        return { findings: findings.map((r) => toFinding(r, lines)), incremental: false };
      } finally {
        if (!keep) tree.delete();
      }
    },
    ready,
    settle(path) {
      const doc = docs.get(path);
      if (!doc || doc.dirty.length === 0) return undefined;
      const before = doc.findings;
      const shown = JSON.stringify(before.map((f) => toFinding(f, doc.lines)));
      const r = reparse(path, doc, (spans) => before.filter((f) => !spans.some((s) => f.startIndex < s.end && f.endIndex > s.start)));
      return { ...r, differs: JSON.stringify(r.findings) !== shown };
    },
    checkFile(path) {
      const buf = readFileSync(path);
      return checker.checkText(path, decode(buf));
    },
    close(path) {
      const d = docs.get(path);
      if (d) {
        d.tree.delete();
        docs.delete(path);
      }
    },
    dispose() {
      for (const d of docs.values()) d.tree.delete();
      docs.clear();
      headerCache.clear();
      parserP?.delete();
      auxP?.delete();
      parserP = auxP = null;
    },
  };
  return checker;
}

function shift(f: RawFinding, delta: number): RawFinding {
  return {
    ...f,
    startIndex: f.startIndex + delta,
    endIndex: f.endIndex + delta,
    fixSpans: f.fixSpans?.map((s) => ({ ...s, start: s.start + delta, end: s.end + delta })),
  };
}

/** Bytes → text: UTF-8 when valid, else Latin-1 (one char per byte, so nothing is lost or merged). */
export function decode(buf: Buffer): string {
  const text = buf.toString('utf8');
  if (!text.includes('\uFFFD')) return text;
  return buf.toString('latin1');
}

export type { Position };
