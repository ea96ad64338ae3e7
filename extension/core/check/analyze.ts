// The rules, over one parsed file (or a part of it): typed field access on skb_frag_t, frags used as
// struct bio_vec, and accesses inside macros. Candidates are located by text and typed only there.
import type { Node, Parser, Tree } from 'web-tree-sitter';
import { baseOf, declaratorInfo, declaredNames, paramInfo, typeDescriptor } from './decls';
import type { Env } from './env';
import { statementBefore } from './prefilter';
import { ERA_WORDING, KNOWN_FIELDS, roleOf, type Era, type FieldRole } from './era';
import type { CType, Finding, MacroDecl, Position, TextEdit } from './types';

/** A finding plus the text offsets it covers (for incremental re-checks). */
export interface RawFinding extends Finding {
  startIndex: number;
  endIndex: number;
  /** The fix as text offsets (the `fix` positions are derived from these). */
  fixSpans?: { start: number; end: number; newText: string }[];
}

export interface AnalyzeInput {
  file: string;
  text: string;
  tree: Tree;
  env: Env;
  era: Era;
  /** Parser for macro bodies. */
  aux: Parser;
  /** Regex source matching any frag field name (alternation). */
  fieldAlt: string;
  lines: LineTable;
  /**
   * Whether a statement's text mentions a name through which a frag can be reached (the scan
   * prefilter's test; field accesses in statements that mention none are not typed at all).
   */
  mentions?: (statement: string) => boolean;
}

export class LineTable {
  private readonly starts: number[] = [0];
  constructor(text: string) {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  at(index: number): Position {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= index) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, col: index - this.starts[lo] };
  }
}

const NO_READ_FIX_CALLEES = new Set([
  'READ_ONCE',
  'WRITE_ONCE',
  'smp_load_acquire',
  'smp_store_release',
  'offsetof',
  'sizeof_field',
  'typeof',
  '__typeof__',
  'container_of',
  'BUILD_BUG_ON',
  'swap',
]);

function firstNamed(n: Node): Node | null {
  for (const c of n.namedChildren) if (c && c.type !== 'comment') return c;
  return null;
}

function stripParens(n: Node): Node {
  let cur = n;
  while (cur.type === 'parenthesized_expression') {
    const inner = firstNamed(cur);
    if (!inner || inner.type === 'comma_expression') break;
    cur = inner;
  }
  return cur;
}

const POSTFIX_OR_PRIMARY = new Set([
  'identifier',
  'field_expression',
  'subscript_expression',
  'call_expression',
  'parenthesized_expression',
]);

/** A per-pass typing context over one tree. */
class Typer {
  private readonly cache = new Map<number, CType | null>();
  private static readonly macroTypes = new WeakMap<MacroDecl, CType | null>();
  private depth = 0;

  constructor(
    private readonly env: Env,
    private readonly aux: Parser,
  ) {}

  typeOf(node: Node | null): CType | null {
    if (!node) return null;
    const hit = this.cache.get(node.id);
    if (hit !== undefined) return hit;
    if (this.depth > 64) return null;
    this.depth++;
    let t: CType | null = null;
    try {
      t = this.compute(node);
    } finally {
      this.depth--;
    }
    this.cache.set(node.id, t);
    return t;
  }

  private compute(node: Node): CType | null {
    const env = this.env;
    switch (node.type) {
      case 'identifier':
        return this.lookup(node);
      case 'parenthesized_expression': {
        const inner = firstNamed(node);
        return inner ? this.typeOf(inner) : null;
      }
      case 'field_expression': {
        const argT = this.typeOf(node.childForFieldName('argument'));
        const field = node.childForFieldName('field');
        if (!argT || !field) return null;
        const arrow = this.operator(node) === '->';
        const r = env.resolve(argT);
        if (!r || r.ptr + r.arr !== (arrow ? 1 : 0)) return null;
        const members = env.struct(r.base);
        if (!members || !Object.hasOwn(members, field.text)) return null;
        return members[field.text];
      }
      case 'subscript_expression': {
        const t = this.typeOf(node.childForFieldName('argument'));
        if (!t) return null;
        if (t.arr > 0) return { ...t, arr: t.arr - 1 };
        if (t.ptr > 0) return { ...t, ptr: t.ptr - 1 };
        const r = env.resolve(t);
        if (r && r.arr > 0) return { ...r, arr: r.arr - 1 };
        if (r && r.ptr > 0) return { ...r, ptr: r.ptr - 1 };
        return null;
      }
      case 'pointer_expression': {
        const op = node.child(0)?.type;
        const t = this.typeOf(node.childForFieldName('argument'));
        if (!t) return null;
        if (op === '&') return { ...t, ptr: t.ptr + 1 };
        if (t.arr > 0) return { ...t, arr: t.arr - 1 };
        if (t.ptr > 0) return { ...t, ptr: t.ptr - 1 };
        const r = env.resolve(t);
        if (r && r.ptr + r.arr > 0) return r.arr > 0 ? { ...r, arr: r.arr - 1 } : { ...r, ptr: r.ptr - 1 };
        return null;
      }
      case 'cast_expression': {
        const td = node.childForFieldName('type');
        return td ? typeDescriptor(td) : null;
      }
      case 'compound_literal_expression': {
        const td = node.childForFieldName('type');
        return td ? typeDescriptor(td) : null;
      }
      case 'call_expression': {
        const fn = node.childForFieldName('function');
        if (!fn || fn.type !== 'identifier') return null;
        const m = env.macro(fn.text);
        if (m && m.params) return this.macroType(m);
        const f = env.func(fn.text);
        return f ? f.ret : null;
      }
      case 'conditional_expression':
        return this.typeOf(node.childForFieldName('consequence')) ?? this.typeOf(node.childForFieldName('alternative'));
      case 'comma_expression':
        return this.typeOf(node.childForFieldName('right'));
      case 'assignment_expression':
        return this.typeOf(node.childForFieldName('left'));
      case 'binary_expression': {
        const op = this.operator(node);
        if (op !== '+' && op !== '-') return null;
        const l = this.typeOf(node.childForFieldName('left'));
        const lr = env.resolve(l);
        if (l && lr && lr.ptr + lr.arr > 0) return l;
        if (op === '+') {
          const r = this.typeOf(node.childForFieldName('right'));
          const rr = env.resolve(r);
          if (r && rr && rr.ptr + rr.arr > 0) return r;
        }
        return null;
      }
      default:
        return null;
    }
  }

  operator(node: Node): string {
    const op = node.childForFieldName('operator');
    if (op) return op.type;
    for (const c of node.children) if (c && !c.isNamed) return c.type;
    return '';
  }

  /** The type a macro's body evaluates to, when that does not depend on its arguments. */
  macroType(m: MacroDecl): CType | null {
    const hit = Typer.macroTypes.get(m);
    if (hit !== undefined) return hit;
    Typer.macroTypes.set(m, null);
    let t: CType | null = null;
    const body = m.body.replace(/\\\r?\n/g, ' ').trim();
    if (body && body.length < 2000) {
      const tree = this.aux.parse(`void __netmem_macro(void) { (${body}); }`);
      if (tree) {
        try {
          const stmt = tree.rootNode.descendantForIndex(29);
          let e: Node | null = stmt;
          while (e && e.type !== 'expression_statement') e = e.parent;
          const expr = e ? firstNamed(e) : null;
          if (expr && !expr.hasError) {
            const sub = new Typer(this.env, this.aux);
            sub.depth = this.depth;
            t = sub.typeOf(expr);
          }
        } finally {
          tree.delete();
        }
      }
    }
    Typer.macroTypes.set(m, t);
    return t;
  }

  private lookup(id: Node): CType | null {
    const name = id.text;
    const at = id.startIndex;
    for (let n = id.parent; n; n = n.parent) {
      switch (n.type) {
        case 'compound_statement':
        case 'case_statement':
        case 'ERROR':
        case 'translation_unit': {
          for (const c of n.namedChildren) {
            if (!c || c.startIndex >= at) break;
            if (c.type === 'declaration') {
              for (const d of declaredNames(c, null)) if (d.name === name && !d.func) return d.type;
            }
          }
          break;
        }
        case 'for_statement': {
          const init = n.childForFieldName('initializer');
          if (init && init.type === 'declaration' && init.startIndex < at) {
            for (const d of declaredNames(init, null)) if (d.name === name) return d.type;
          }
          break;
        }
        case 'function_definition': {
          let d: Node | null = n.childForFieldName('declarator');
          while (d && d.type !== 'function_declarator') d = d.childForFieldName('declarator');
          const params = d?.childForFieldName('parameters');
          if (params) {
            for (const p of params.namedChildren) {
              if (!p || p.type !== 'parameter_declaration') continue;
              const info = paramInfo(p, null);
              if (info.name === name) return info.type;
            }
          }
          break;
        }
        default:
          break;
      }
    }
    const v = this.env.variable(name);
    if (v) return v;
    const m = this.env.macro(name);
    if (m && !m.params) return this.macroType(m);
    return null;
  }
}

function fragExprText(text: string, arg: Node, arrow: boolean): string {
  if (arrow) {
    const s = stripParens(arg);
    return text.slice(s.startIndex, s.endIndex);
  }
  const s = stripParens(arg);
  if (s.type === 'pointer_expression' && s.child(0)?.type === '*') {
    const inner = s.childForFieldName('argument');
    if (inner) return text.slice(inner.startIndex, inner.endIndex);
  }
  const t = text.slice(s.startIndex, s.endIndex);
  return POSTFIX_OR_PRIMARY.has(s.type) ? `&${t}` : `&(${t})`;
}

const READ_HELPER: Record<FieldRole, string | null> = {
  page: 'skb_frag_page',
  'page-struct': 'skb_frag_page',
  netmem: 'skb_frag_netmem',
  len: 'skb_frag_size',
  off: 'skb_frag_off',
};

interface WritePlan {
  helper: string;
  /** Build the call from the frag expression and the right-hand side. */
  call: (frag: string, rhs: string) => string;
}

function writePlan(role: FieldRole, op: string): WritePlan | null {
  const h = (helper: string, call: (f: string, r: string) => string): WritePlan => ({ helper, call });
  if (role === 'len') {
    if (op === '=') return h('skb_frag_size_set', (f, r) => `skb_frag_size_set(${f}, ${r})`);
    if (op === '+=') return h('skb_frag_size_add', (f, r) => `skb_frag_size_add(${f}, ${r})`);
    if (op === '-=') return h('skb_frag_size_sub', (f, r) => `skb_frag_size_sub(${f}, ${r})`);
    if (op === '++') return h('skb_frag_size_add', (f) => `skb_frag_size_add(${f}, 1)`);
    if (op === '--') return h('skb_frag_size_sub', (f) => `skb_frag_size_sub(${f}, 1)`);
  } else if (role === 'off') {
    if (op === '=') return h('skb_frag_off_set', (f, r) => `skb_frag_off_set(${f}, ${r})`);
    if (op === '+=') return h('skb_frag_off_add', (f, r) => `skb_frag_off_add(${f}, ${r})`);
    if (op === '-=') return h('skb_frag_off_add', (f, r) => `skb_frag_off_add(${f}, -(${r}))`);
    if (op === '++') return h('skb_frag_off_add', (f) => `skb_frag_off_add(${f}, 1)`);
    if (op === '--') return h('skb_frag_off_add', (f) => `skb_frag_off_add(${f}, -1)`);
  } else if (role === 'page') {
    if (op === '=') return h('__skb_frag_set_page', (f, r) => `__skb_frag_set_page(${f}, ${r})`);
  }
  return null;
}

function wholeStatement(n: Node): boolean {
  const p = n.parent;
  return !!p && p.type === 'expression_statement';
}

export function analyze(input: AnalyzeInput, ranges?: { start: number; end: number }[]): RawFinding[] {
  const { text, tree, env, era } = input;
  const typer = new Typer(env, input.aux);
  const out: RawFinding[] = [];
  const root = tree.rootNode;
  const spans = ranges ?? [{ start: 0, end: text.length }];
  const seen = new Set<string>();

  const push = (f: Omit<RawFinding, 'file' | 'severity' | 'range'> & { range?: unknown; fix?: unknown }, range?: { start: number; end: number }) => {
    const s = range?.start ?? f.startIndex;
    const e = range?.end ?? f.endIndex;
    const key = `${f.rule}@${s}`;
    if (seen.has(key)) return;
    seen.add(key);
    const fix: TextEdit[] | undefined = f.fixSpans?.map((x) => ({ range: { start: input.lines.at(x.start), end: input.lines.at(x.end) }, newText: x.newText }));
    const raw: RawFinding = { ...f, file: input.file, severity: 'warning', range: { start: input.lines.at(s), end: input.lines.at(e) }, startIndex: s, endIndex: e };
    if (fix) raw.fix = fix;
    else delete raw.fix;
    for (const k of ['helper', 'viaMacro', 'related', 'fixSpans'] as const) if (raw[k] === undefined) delete raw[k];
    out.push(raw);
  };

  const macroUse = (n: Node): string | undefined => {
    for (let p = n.parent; p; p = p.parent) {
      if (p.type === 'argument_list' && p.parent?.type === 'call_expression') {
        const fn = p.parent.childForFieldName('function');
        if (fn?.type === 'identifier') {
          const m = env.macro(fn.text);
          if (m && m.params) return fn.text;
        }
      }
      if (p.type === 'function_definition' || p.type === 'compound_statement') break;
    }
    return undefined;
  };

  const helperOk = (h: string | null): h is string => !!h && era.helpers.has(h);

  // --- Rule: direct field access -------------------------------------------------------------------
  const fieldRe = new RegExp(`(->|\\.)\\s*(${input.fieldAlt})\\b`, 'g');
  for (const span of spans) {
    fieldRe.lastIndex = span.start;
    for (let m = fieldRe.exec(text); m && m.index < span.end; m = fieldRe.exec(text)) {
      if (input.mentions && !input.mentions(statementBefore(text, m.index, 0))) continue;
      const fieldStart = m.index + m[0].length - m[2].length;
      const id = root.descendantForIndex(fieldStart, fieldStart + m[2].length);
      if (!id || id.type !== 'field_identifier') continue;
      const fe = id.parent;
      if (!fe || fe.type !== 'field_expression') continue;
      const arg = fe.childForFieldName('argument');
      const arrow = typer.operator(fe) === '->';
      const lvl = env.fragLevel(typer.typeOf(arg));
      if (lvl === null || lvl !== (arrow ? 1 : 0) || !arg) continue;
      const field = m[2];
      let target = fe;
      let role: FieldRole | undefined = roleOf(field);
      let shown = field;
      if (field === 'page' && fe.parent?.type === 'field_expression') {
        const outer = fe.parent;
        if (outer.childForFieldName('argument')?.id === fe.id && outer.childForFieldName('field')?.text === 'p') {
          target = outer;
          role = 'page';
          shown = 'page.p';
        }
      }
      const frag = fragExprText(text, arg, arrow);
      let helper: string | undefined;
      let fixSpans: RawFinding['fixSpans'];
      const p = target.parent;
      let kind: 'read' | 'write' | 'address' = 'read';
      if (p?.type === 'assignment_expression' && p.childForFieldName('left')?.id === target.id) kind = 'write';
      else if (p?.type === 'update_expression') kind = 'write';
      else if (p?.type === 'pointer_expression' && p.child(0)?.type === '&') kind = 'address';
      if (role && kind === 'write' && p) {
        const op = p.type === 'update_expression' ? (p.child(0)?.type === '++' || p.child(1)?.type === '++' ? '++' : '--') : typer.operator(p);
        const plan = writePlan(role, op);
        if (plan && helperOk(plan.helper)) {
          helper = plan.helper;
          if (wholeStatement(p)) {
            const rhsNode = p.type === 'assignment_expression' ? p.childForFieldName('right') : null;
            const rhs = rhsNode ? text.slice(rhsNode.startIndex, rhsNode.endIndex) : '';
            fixSpans = [{ start: p.startIndex, end: p.endIndex, newText: plan.call(frag, rhs) }];
          }
        }
      } else if (role) {
        const h = READ_HELPER[role];
        if (helperOk(h)) {
          helper = h;
          const call = p?.type === 'argument_list' ? p.parent?.childForFieldName('function')?.text : undefined;
          const unsafe =
            kind !== 'read' ||
            role === 'page-struct' ||
            (call !== undefined && NO_READ_FIX_CALLEES.has(call)) ||
            p?.type === 'sizeof_expression' ||
            (role === 'netmem' && h !== 'skb_frag_netmem');
          if (!unsafe) fixSpans = [{ start: target.startIndex, end: target.endIndex, newText: `${h}(${frag})` }];
        }
      }
      const known = Object.hasOwn(KNOWN_FIELDS, field) ? KNOWN_FIELDS[field] : undefined;
      const eraNote =
        era.fields.includes(field) || !known ? '' : ` (${ERA_WORDING[known.era]}; this tree's skb_frag_t has ${era.fields.join(', ')})`;
      const macro = macroUse(target);
      const use = helper ? `use ${helper}()` : 'use the skb_frag_*() helpers';
      push({
        rule: 'frag-field-access',
        message: `direct access to skb_frag_t field '${shown}'${eraNote}: ${use}${macro ? ` (in an argument of macro ${macro}, at its use site)` : ''}`,
        startIndex: target.startIndex,
        endIndex: target.endIndex,
        helper,
        fixSpans,
        viaMacro: macro ? 'use' : undefined,
      });
    }
  }

  // --- Rule: frags used as struct bio_vec -----------------------------------------------------------
  const asBvec = (value: Node, how: string) => {
    const lvl = env.fragLevel(typer.typeOf(value));
    if (lvl === null || lvl < 1) return;
    push({
      rule: 'frag-as-bio-vec',
      message: `skb_frag_t used as struct bio_vec (${how}): its layout is not a bio_vec's once skb_frag_t is its own type; go through skb_frag_page()/skb_frag_off()/skb_frag_size() or build a bio_vec`,
      startIndex: value.startIndex,
      endIndex: value.endIndex,
    });
  };
  const bvecNames = new Set<string>();
  const bioRe = /\bbio_vec\b/g;
  for (const span of spans) {
    bioRe.lastIndex = span.start;
    for (let m = bioRe.exec(text); m && m.index < span.end; m = bioRe.exec(text)) {
      let n: Node | null = root.descendantForIndex(m.index, m.index + 7);
      for (let i = 0; n && i < 4; i++, n = n.parent) {
        if (n.type === 'cast_expression') {
          const td = n.childForFieldName('type');
          const value = n.childForFieldName('value');
          if (td && value && env.isBioVecPtr(typeDescriptor(td))) asBvec(value, 'cast to struct bio_vec *');
          break;
        }
        if (n.type === 'declaration') {
          for (const d of declaredNames(n, null)) {
            if (!env.isBioVecPtr(d.type)) continue;
            bvecNames.add(d.name);
            let init: Node | null = d.node;
            while (init && init.type !== 'init_declarator' && init.id !== n.id) init = init.parent;
            const value = init?.type === 'init_declarator' ? init.childForFieldName('value') : null;
            if (value) asBvec(value, `assigned to struct bio_vec *${d.name}`);
          }
          break;
        }
        if (n.type === 'function_definition') {
          // A function returning struct bio_vec *: what it returns must not be a frag.
          const d = n.childForFieldName('declarator');
          const fn = d ? declaratorInfo(d, baseOf(n.childForFieldName('type'), null), null) : null;
          const body = n.childForFieldName('body');
          if (fn?.func && body && m.index < body.startIndex && env.isBioVecPtr(fn.func.ret)) {
            for (const r of body.descendantsOfType('return_statement')) {
              const value = r?.namedChildren.find((c) => c !== null && c.type !== 'comment');
              if (value) asBvec(value, `returned from ${fn.name}(), which returns struct bio_vec *`);
            }
          }
          break;
        }
        if (n.type === 'parameter_declaration' || n.type === 'field_declaration') {
          const info = n.type === 'parameter_declaration' ? paramInfo(n, null) : null;
          if (info?.name) bvecNames.add(info.name);
          else for (const d of declaredNames(n, null)) bvecNames.add(d.name);
          break;
        }
      }
    }
  }
  // Members of type struct bio_vec * (e.g. iov_iter's bvec) and the names declared above.
  for (const name of env.bvecMemberNames()) bvecNames.add(name);

  // Calls: bvec parameters, and macros whose definition touches an argument's frag fields.
  const callRe = /\b([A-Za-z_]\w*)\s*\(/g;
  const fieldMacro = new Map<string, FieldMacro[]>();
  const targets = env.callTargets(new RegExp(`(->|\\.)\\s*(${input.fieldAlt})\\b`));
  for (const span of spans) {
    callRe.lastIndex = span.start;
    for (let m = callRe.exec(text); m && m.index < span.end; m = callRe.exec(text)) {
      const name = m[1];
      if (!targets.has(name)) continue;
      const bv = env.bvecParams(name);
      const macro = env.macro(name);
      const fm = macro && macro.params ? macroFieldUses(macro, input.fieldAlt, fieldMacro, name) : [];
      if (bv.length === 0 && fm.length === 0) continue;
      const id = root.descendantForIndex(m.index, m.index + name.length);
      const call = id?.parent;
      if (!id || id.type !== 'identifier' || !call || call.type !== 'call_expression' || call.childForFieldName('function')?.id !== id.id) continue;
      const args = call.childForFieldName('arguments')?.namedChildren.filter((c): c is Node => !!c && c.type !== 'comment') ?? [];
      if (!macro || !macro.params) for (const i of bv) if (args[i]) asBvec(args[i], `passed to ${name}() as its struct bio_vec * argument`);
      for (const use of fm) {
        const a = args[use.param];
        if (!a) continue;
        const lvl = env.fragLevel(typer.typeOf(a));
        if (lvl === null || lvl !== (use.arrow ? 1 : 0)) continue;
        const defAt = `${macro!.file}:${macro!.line + 1}`;
        const role = roleOf(use.field);
        const h = role ? READ_HELPER[role] : null;
        push({
          rule: 'frag-macro-field-access',
          message: `macro ${name} (defined at ${defAt}) accesses '${use.arrow ? '->' : '.'}${use.field}' of its argument '${macro!.params![use.param]}', which is a skb_frag_t here: change the macro's definition to ${helperOk(h) ? `use ${h}()` : 'use the skb_frag_*() helpers'}`,
          startIndex: a.startIndex,
          endIndex: a.endIndex,
          helper: helperOk(h) ? h : undefined,
          viaMacro: 'definition',
          related: [
            {
              file: macro!.file,
              range: { start: { line: macro!.line, col: macro!.col }, end: { line: macro!.line, col: macro!.col + use.offsetEnd } },
              message: `the access in ${name}'s definition`,
            },
          ],
        });
      }
    }
  }

  // Assignments to struct bio_vec * variables and members.
  if (bvecNames.size > 0) {
    const names = [...bvecNames].filter((n) => /^\w+$/.test(n));
    const assignRe = new RegExp(`\\b(${names.join('|')})\\s*=(?!=)`, 'g');
    for (const span of spans) {
      assignRe.lastIndex = span.start;
      for (let m = assignRe.exec(text); m && m.index < span.end; m = assignRe.exec(text)) {
        let n: Node | null = root.descendantForIndex(m.index, m.index + m[1].length);
        for (let i = 0; n && i < 4 && n.type !== 'assignment_expression'; i++) n = n.parent;
        if (!n || n.type !== 'assignment_expression' || typer.operator(n) !== '=') continue;
        const left = n.childForFieldName('left');
        const right = n.childForFieldName('right');
        if (!left || !right || !env.isBioVecPtr(typer.typeOf(left))) continue;
        asBvec(right, `assigned to ${text.slice(left.startIndex, left.endIndex)}, a struct bio_vec *`);
      }
    }
  }

  // --- Macro definitions in this file whose body accesses frag fields of a typed frag expression ----
  const defRe = /^[ \t]*#[ \t]*define[ \t]+\w+/gm;
  const fieldTest = new RegExp(`(->|\\.)\\s*(${input.fieldAlt})\\b`);
  for (const span of spans) {
    defRe.lastIndex = span.start;
    for (let m = defRe.exec(text); m && m.index < span.end; m = defRe.exec(text)) {
      const n = root.descendantForIndex(m.index + m[0].length - 1);
      let def: Node | null = n;
      while (def && def.type !== 'preproc_function_def' && def.type !== 'preproc_def') def = def.parent;
      const value = def?.childForFieldName('value');
      if (!value || !fieldTest.test(value.text)) continue;
      for (const f of analyzeMacroBody(input, value)) push(f, { start: f.startIndex, end: f.endIndex });
    }
  }
  return out;
}

interface FieldMacro {
  param: number;
  arrow: boolean;
  field: string;
  offsetEnd: number;
}

const fieldUseCache = new WeakMap<MacroDecl, FieldMacro[]>();

/** Which parameters of a function-like macro have frag field names accessed in its body. */
export function macroFieldUses(m: MacroDecl, fieldAlt: string, _memo: Map<string, FieldMacro[]>, _name: string): FieldMacro[] {
  const hit = fieldUseCache.get(m);
  if (hit) return hit;
  const out: FieldMacro[] = [];
  if (m.params && m.params.length > 0 && new RegExp(`(->|\\.)\\s*(${fieldAlt})\\b`).test(m.body)) {
    m.params.forEach((p, i) => {
      if (!/^\w+$/.test(p)) return;
      const re = new RegExp(`(?<!(?:->|\\.)\\s*)(?:\\(\\s*${p}\\s*\\)|\\b${p}\\b)\\s*(->|\\.)\\s*(${fieldAlt})\\b`, 'g');
      for (const mm of m.body.matchAll(re)) out.push({ param: i, arrow: mm[1] === '->', field: mm[2], offsetEnd: (mm.index ?? 0) + mm[0].length });
    });
  }
  fieldUseCache.set(m, out);
  return out;
}

/** Check the body of a macro defined in this file as code; positions map back into the file. */
function analyzeMacroBody(input: AnalyzeInput, value: Node): RawFinding[] {
  const prefix = 'void __netmem_macro(void) {\n';
  const body = input.text.slice(value.startIndex, value.endIndex).replace(/\\(?=\r?\n)/g, ' ');
  const src = `${prefix}${body}\n;}\n`;
  const tree = input.aux.parse(src);
  if (!tree) return [];
  try {
    const inner = analyze(
      { ...input, text: src, tree, lines: new LineTable(src), file: input.file },
      [{ start: prefix.length, end: prefix.length + body.length }],
    ).filter((f) => f.rule === 'frag-field-access');
    const shift = value.startIndex - prefix.length;
    return inner.map((f) => {
      const s = f.startIndex + shift;
      const e = f.endIndex + shift;
      return {
        ...f,
        rule: 'frag-macro-field-access' as const,
        message: `${f.message.replace(/ \(in an argument of macro [^)]*\)$/, '')} (in the definition of a macro)`,
        startIndex: s,
        endIndex: e,
        range: { start: input.lines.at(s), end: input.lines.at(e) },
        viaMacro: 'definition' as const,
        fix: undefined,
        fixSpans: undefined,
      };
    });
  } finally {
    tree.delete();
  }
}

