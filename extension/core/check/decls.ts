// Reading declarations out of a tree-sitter C tree: declarators → (name, CType), struct members,
// typedefs, prototypes and macros. Only what the frag checker needs; anything odd becomes `?`.
import type { Node } from 'web-tree-sitter';
import type { CType, DeclSet, FuncDecl } from './types';

export const UNKNOWN: CType = { base: '?', ptr: 0, arr: 0 };

export function own<T>(rec: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

export interface DeclaredName {
  name: string;
  type: CType;
  /** Set when the declarator declares a function (prototype or definition). */
  func?: FuncDecl;
  node: Node;
}

interface Ctx {
  decls: DeclSet;
  /** Used to name anonymous structs. */
  file: string;
}

/** The base type named by a type specifier node; registers struct bodies found on the way. */
export function baseOf(spec: Node | null, ctx: Ctx | null): string {
  if (!spec) return '?';
  switch (spec.type) {
    case 'primitive_type':
    case 'type_identifier':
      return spec.text;
    case 'sized_type_specifier':
      return 'int';
    case 'enum_specifier':
      return 'int';
    case 'struct_specifier':
    case 'union_specifier': {
      const kw = spec.type === 'struct_specifier' ? 'struct' : 'union';
      const name = spec.childForFieldName('name');
      const body = spec.childForFieldName('body');
      const key = name ? `${kw} ${name.text}` : `${kw} <anon:${ctx?.file ?? ''}:${spec.startIndex}>`;
      if (body && ctx) collectMembers(body, key, ctx);
      return key;
    }
    default:
      return '?';
  }
}

function collectMembers(body: Node, key: string, ctx: Ctx): void {
  const members: Record<string, CType> = Object.hasOwn(ctx.decls.structs, key) ? ctx.decls.structs[key] : {};
  ctx.decls.structs[key] = members;
  for (const field of body.namedChildren) {
    if (!field || field.type !== 'field_declaration') continue;
    const spec = field.childForFieldName('type');
    const base = baseOf(spec, ctx);
    const declarators = field.childrenForFieldName('declarator');
    if (declarators.length === 0 && spec && (spec.type === 'struct_specifier' || spec.type === 'union_specifier')) {
      // An anonymous struct/union member: its members belong to the parent.
      const inner = own(ctx.decls.structs, base);
      if (inner) for (const [k, v] of Object.entries(inner)) members[k] = v;
      continue;
    }
    for (const d of declarators) {
      if (!d) continue;
      const got = declaratorInfo(d, base, ctx);
      if (got) members[got.name] = got.type;
    }
  }
}

/**
 * Name and type of one declarator over `base`. Function declarators give a FuncDecl; pointers to
 * functions get the base `<fn>` (never a frag).
 */
export function declaratorInfo(node: Node, base: string, ctx: Ctx | null): DeclaredName | null {
  let ptr = 0;
  let arr = 0;
  let func: FuncDecl | undefined;
  let fnPtr = false;
  let n: Node | null = node;
  while (n) {
    switch (n.type) {
      case 'identifier':
      case 'field_identifier':
      case 'type_identifier': {
        const type: CType = fnPtr ? { base: '<fn>', ptr: 0, arr } : { base, ptr, arr };
        if (func) func.ret = { base, ptr: func.ret.ptr, arr: 0 };
        return { name: n.text, type, func: fnPtr ? undefined : func, node: n };
      }
      case 'pointer_declarator':
        if (func) fnPtr = true;
        ptr++;
        n = n.childForFieldName('declarator');
        break;
      case 'array_declarator':
        arr++;
        n = n.childForFieldName('declarator');
        break;
      case 'init_declarator':
      case 'attributed_declarator':
        n = n.childForFieldName('declarator') ?? n.namedChildren[0] ?? null;
        break;
      case 'parenthesized_declarator':
        n = n.namedChildren.find((c) => c !== null && c.type !== 'comment') ?? null;
        break;
      case 'function_declarator': {
        if (func) fnPtr = true;
        else {
          func = { ret: { base, ptr, arr: 0 }, params: [], names: [] };
          ptr = 0;
          arr = 0;
          const params = n.childForFieldName('parameters');
          if (params) {
            for (const p of params.namedChildren) {
              if (!p || p.type !== 'parameter_declaration') continue;
              const pt = paramInfo(p, ctx);
              func.params.push(pt.type);
              func.names.push(pt.name);
            }
          }
        }
        n = n.childForFieldName('declarator');
        break;
      }
      default:
        return null;
    }
  }
  return null;
}

/** Type (and name, if any) of a parameter_declaration. */
export function paramInfo(p: Node, ctx: Ctx | null): { name: string | null; type: CType | null } {
  const base = baseOf(p.childForFieldName('type'), ctx);
  const d = p.childForFieldName('declarator');
  if (!d) return { name: null, type: base === 'void' ? null : { base, ptr: 0, arr: 0 } };
  if (d.type.startsWith('abstract_')) return { name: null, type: abstractType(d, base) };
  const info = declaratorInfo(d, base, ctx);
  if (!info) return { name: null, type: null };
  // A parameter declared as an array is a pointer.
  const t = info.type.arr > 0 ? { ...info.type, ptr: info.type.ptr + info.type.arr, arr: 0 } : info.type;
  return { name: info.name, type: t };
}

/** The type of an abstract declarator (casts, nameless parameters). */
export function abstractType(d: Node | null, base: string): CType {
  let ptr = 0;
  let arr = 0;
  let n = d;
  while (n) {
    if (n.type === 'abstract_pointer_declarator') {
      ptr++;
      n = n.childForFieldName('declarator');
    } else if (n.type === 'abstract_array_declarator') {
      arr++;
      n = n.childForFieldName('declarator');
    } else if (n.type === 'abstract_parenthesized_declarator') {
      n = n.namedChildren[0] ?? null;
    } else if (n.type === 'abstract_function_declarator') {
      return { base: '<fn>', ptr: 0, arr: 0 };
    } else break;
  }
  return { base, ptr, arr };
}

/** Type of a `type_descriptor` (the type in a cast, sizeof, compound literal). */
export function typeDescriptor(td: Node): CType {
  const base = baseOf(td.childForFieldName('type'), null);
  return abstractType(td.childForFieldName('declarator'), base);
}

/** Names declared by a `declaration` (or field/parameter) node. */
export function declaredNames(decl: Node, ctx: Ctx | null): DeclaredName[] {
  const base = baseOf(decl.childForFieldName('type'), ctx);
  const out: DeclaredName[] = [];
  for (const d of decl.childrenForFieldName('declarator')) {
    if (!d) continue;
    const got = declaratorInfo(d, base, ctx);
    if (got) out.push(got);
  }
  return out;
}

/** Parameters of a preproc macro: names, `...`/`x...` kept as their name. */
function macroParams(params: Node): string[] {
  const out: string[] = [];
  for (const c of params.namedChildren) {
    if (!c) continue;
    if (c.type === 'identifier') out.push(c.text);
    else if (c.type === 'variadic_parameter' || c.text === '...') out.push('__VA_ARGS__');
  }
  // `x...` (GNU named variadic) parses as identifier followed by `...`: the identifier is kept.
  return out;
}

/**
 * Collect declarations from `root`'s top level (descending into preprocessor conditionals,
 * `extern "C"`-like blocks and ERROR nodes, never into function bodies).
 */
export function collectDecls(root: Node, file: string, into: DeclSet): DeclSet {
  const ctx: Ctx = { decls: into, file };
  const visit = (node: Node): void => {
    for (const c of node.namedChildren) {
      if (!c) continue;
      switch (c.type) {
        case 'type_definition': {
          const base = baseOf(c.childForFieldName('type'), ctx);
          for (const d of c.childrenForFieldName('declarator')) {
            if (!d) continue;
            const got = declaratorInfo(d, base, ctx);
            if (got && !got.func) into.typedefs[got.name] = got.type;
          }
          break;
        }
        case 'declaration': {
          for (const got of declaredNames(c, ctx)) {
            if (got.func) into.funcs[got.name] = got.func;
            else into.vars[got.name] = got.type;
          }
          break;
        }
        case 'function_definition': {
          const base = baseOf(c.childForFieldName('type'), ctx);
          const d = c.childForFieldName('declarator');
          const got = d ? declaratorInfo(d, base, ctx) : null;
          if (got?.func) into.funcs[got.name] = got.func;
          break;
        }
        case 'struct_specifier':
        case 'union_specifier':
          baseOf(c, ctx);
          break;
        case 'preproc_function_def':
        case 'preproc_def': {
          const name = c.childForFieldName('name');
          const value = c.childForFieldName('value');
          const params = c.type === 'preproc_function_def' ? c.childForFieldName('parameters') : null;
          if (name) {
            into.macros[name.text] = {
              params: params ? macroParams(params) : null,
              body: value ? value.text : '',
              file,
              line: value ? value.startPosition.row : name.startPosition.row,
              col: value ? value.startPosition.column : name.startPosition.column,
            };
          }
          break;
        }
        case 'preproc_if':
        case 'preproc_ifdef':
        case 'preproc_else':
        case 'preproc_elif':
        case 'preproc_elifdef':
        case 'linkage_specification':
        case 'declaration_list':
        case 'ERROR':
          visit(c);
          break;
        case 'expression_statement': {
          // `struct foo { ... };` sometimes lands here around macros; look for struct bodies.
          break;
        }
        default:
          break;
      }
    }
  };
  visit(root);
  return into;
}

/** Merge `b` into `a` (b wins). */
export function mergeDecls(a: DeclSet, b: DeclSet): DeclSet {
  Object.assign(a.typedefs, b.typedefs);
  for (const [k, v] of Object.entries(b.structs)) a.structs[k] = Object.hasOwn(a.structs, k) ? { ...a.structs[k], ...v } : v;
  Object.assign(a.vars, b.vars);
  Object.assign(a.funcs, b.funcs);
  Object.assign(a.macros, b.macros);
  return a;
}

/** Add to `a` what `b` has and `a` lacks. */
export function fillDecls(a: DeclSet, b: DeclSet): DeclSet {
  for (const k of ['typedefs', 'structs', 'vars', 'funcs', 'macros'] as const) {
    const to = a[k] as Record<string, unknown>;
    for (const [name, v] of Object.entries(b[k])) if (!Object.hasOwn(to, name)) to[name] = v;
  }
  return a;
}
