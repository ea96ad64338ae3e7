// Where names come from: the file itself first, then its local headers, then the tree's header index.
import { own } from './decls';
import type { CType, DeclSet, FuncDecl, MacroDecl } from './types';

/** Bases that are skb_frag_t itself in some era. `struct bio_vec` is deliberately not one. */
export const FRAG_BASES = new Set(['skb_frag_t', 'struct skb_frag_struct', 'struct skb_frag']);

/** Functions taking a `struct bio_vec *`, by argument index: used when no prototype is visible. */
export const BUILTIN_BVEC_FUNCS: Record<string, number[]> = {
  iov_iter_bvec: [2],
  bvec_iter_advance: [0],
  bvec_iter_advance_single: [0],
  bvec_kmap_local: [0],
  bvec_kmap_irq: [0],
  memcpy_from_bvec: [1],
  memcpy_to_bvec: [0],
  memzero_bvec: [0],
  bvec_virt: [0],
  bvec_set_page: [0],
  bvec_set_folio: [0],
  bvec_set_virt: [0],
  bvec_phys: [0],
};

const targetCache = new WeakMap<DeclSet, Set<string>>();
const memberCache = new WeakMap<DeclSet, Set<string>>();

export class Env {
  /** Most specific first. */
  constructor(readonly sets: DeclSet[]) {}

  typedef(name: string): CType | undefined {
    for (const s of this.sets) {
      const t = own(s.typedefs, name);
      if (t) return t;
    }
    return undefined;
  }
  struct(key: string): Record<string, CType> | undefined {
    for (const s of this.sets) {
      const t = own(s.structs, key);
      if (t) return t;
    }
    return undefined;
  }
  variable(name: string): CType | undefined {
    for (const s of this.sets) {
      const t = own(s.vars, name);
      if (t) return t;
    }
    return undefined;
  }
  func(name: string): FuncDecl | undefined {
    for (const s of this.sets) {
      const t = own(s.funcs, name);
      if (t) return t;
    }
    return undefined;
  }
  macro(name: string): MacroDecl | undefined {
    for (const s of this.sets) {
      const t = own(s.macros, name);
      if (t) return t;
    }
    return undefined;
  }

  /** Levels of pointer/array if `t` is skb_frag_t (through any typedef alias), else null. */
  fragLevel(t: CType | null | undefined): number | null {
    let cur = t;
    for (let i = 0; cur && i < 16; i++) {
      if (FRAG_BASES.has(cur.base)) return cur.ptr + cur.arr;
      const td = this.typedef(cur.base);
      if (!td) return null;
      cur = { base: td.base, ptr: cur.ptr + td.ptr, arr: cur.arr + td.arr };
    }
    return null;
  }

  /** Expand typedefs completely (skb_frag_t included). */
  resolve(t: CType | null | undefined): CType | null {
    let cur = t ?? null;
    for (let i = 0; cur && i < 16; i++) {
      const td = this.typedef(cur.base);
      if (!td || td.base === cur.base) return cur;
      cur = { base: td.base, ptr: cur.ptr + td.ptr, arr: cur.arr + td.arr };
    }
    return cur;
  }

  /** True if `t` is a pointer to (or array of) `struct bio_vec`, not through skb_frag_t. */
  isBioVecPtr(t: CType | null | undefined): boolean {
    if (!t || this.fragLevel(t) !== null) return false;
    const r = this.resolve(t);
    return !!r && r.base === 'struct bio_vec' && r.ptr + r.arr >= 1;
  }

  /**
   * Names worth looking at where they are called: functions with a struct bio_vec * parameter and
   * function-like macros whose body touches a frag field name (cached per declaration set).
   */
  callTargets(fieldRe: RegExp): Set<string> {
    if (this.targets) return this.targets;
    const out = new Set<string>(Object.keys(BUILTIN_BVEC_FUNCS));
    for (const s of this.sets) {
      let names = targetCache.get(s);
      if (!names) {
        names = new Set<string>();
        for (const [name, f] of Object.entries(s.funcs)) if (f.params.some((p) => this.isBioVecPtr(p))) names.add(name);
        for (const [name, m] of Object.entries(s.macros)) if (m.params && m.params.length > 0 && fieldRe.test(m.body)) names.add(name);
        targetCache.set(s, names);
      }
      for (const n of names) out.add(n);
    }
    this.targets = out;
    return out;
  }

  private targets: Set<string> | undefined;
  private bvecMembers: Set<string> | undefined;

  /** Names of struct members whose type is a struct bio_vec * (e.g. iov_iter's bvec). */
  bvecMemberNames(): Set<string> {
    if (this.bvecMembers) return this.bvecMembers;
    const out = new Set<string>();
    for (const s of this.sets) {
      let names = memberCache.get(s);
      if (!names) {
        names = new Set<string>();
        for (const members of Object.values(s.structs)) {
          for (const [name, t] of Object.entries(members)) if (t.base === 'struct bio_vec' && t.ptr >= 1) names.add(name);
        }
        memberCache.set(s, names);
      }
      for (const n of names) out.add(n);
    }
    this.bvecMembers = out;
    return out;
  }

  /** Argument indexes at which `name` takes a `struct bio_vec *`. */
  bvecParams(name: string): number[] {
    const f = this.func(name);
    if (f) {
      const out: number[] = [];
      f.params.forEach((p, i) => {
        if (this.isBioVecPtr(p)) out.push(i);
      });
      return out;
    }
    return Object.hasOwn(BUILTIN_BVEC_FUNCS, name) ? BUILTIN_BVEC_FUNCS[name] : [];
  }
}
