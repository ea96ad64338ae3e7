// The header index of a kernel checkout: declarations from every header that can matter to frag code
// (those mentioning skb_frag, frags or bio_vec), built once per checkout and kept as JSON under
// $XDG_CACHE_HOME/netmem-series/index/. It is rebuilt when the list of headers, or any header's size
// or mtime, changes (a stat of each header: ~0.2 s on a 6.1 tree).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { join, relative } from 'node:path';
import type { Parser } from 'web-tree-sitter';
import { collectDecls, fillDecls, mergeDecls } from './decls';
import { detectEra, HELPER_HOMES, type Era } from './era';
import { Env } from './env';
import { emptyDecls, type CType, type DeclSet } from './types';
import { cacheRoot } from '../util/assets';

/** Bump when the index format or what goes into it changes. */
export const INDEX_VERSION = 4;

/** Directories of a tree that hold no kernel C headers worth indexing. */
const SKIP_DIRS = new Set(['.git', 'tools', 'Documentation', 'scripts', 'samples', 'usr']);
const INTERESTING = [Buffer.from('skb_frag'), Buffer.from('frags'), Buffer.from('bio_vec')];

export interface HeaderIndex {
  version: number;
  key: string;
  kernelDir: string;
  headers: number;
  parsed: number;
  decls: DeclSet;
  /** Serialisable era: helpers as a list. */
  era: (Omit<Era, 'helpers'> & { helpers: string[] }) | null;
}


/** Every .h under the tree (outside SKIP_DIRS), with its stat line for the key. */
export function listHeaders(kernelDir: string): { files: string[]; key: string } {
  const files: string[] = [];
  const hash = createHash('sha1');
  hash.update(`v${INDEX_VERSION}\n`);
  const walk = (dir: string, top: boolean) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.isDirectory()) {
        if (top && SKIP_DIRS.has(e.name)) continue;
        if (e.name === '.git') continue;
        walk(join(dir, e.name), false);
      } else if (e.isFile() && e.name.endsWith('.h')) {
        const p = join(dir, e.name);
        try {
          const st = statSync(p);
          files.push(p);
          hash.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
        } catch {
          /* vanished */
        }
      }
    }
  };
  walk(kernelDir, true);
  return { files, key: hash.digest('hex') };
}

function indexPath(kernelDir: string): string {
  const id = createHash('sha1').update(kernelDir).digest('hex').slice(0, 16);
  return join(cacheRoot(), 'index', `${id}.json`);
}

/** Read the helper homes of a tree and work out its era (null: no skb_frag_t there). */
export function eraOfTree(kernelDir: string): Era | null {
  let text = '';
  for (const h of HELPER_HOMES) {
    try {
      text += readFileSync(join(kernelDir, h), 'latin1') + '\n';
    } catch {
      /* absent in this era */
    }
  }
  return text ? detectEra(text) : null;
}

export interface IndexOptions {
  /** Called only when the index has to be built. */
  parser: () => Promise<Parser>;
  /** Force a rebuild. */
  rebuild?: boolean;
  onProgress?: (message: string) => void;
}

/** Load the index of `kernelDir` from the cache, or build (and store) it. */
export async function loadOrBuildIndex(kernelDir: string, opts: IndexOptions): Promise<HeaderIndex & { built: boolean }> {
  const { files, key } = listHeaders(kernelDir);
  const path = indexPath(kernelDir);
  if (!opts.rebuild) {
    try {
      const cached = JSON.parse(readFileSync(path, 'utf8')) as HeaderIndex;
      if (cached.version === INDEX_VERSION && cached.key === key && cached.kernelDir === kernelDir) return { ...cached, built: false };
    } catch {
      /* missing or unreadable: build */
    }
  }
  opts.onProgress?.(`indexing ${files.length} headers of ${kernelDir}`);
  const parser = await opts.parser();
  const decls = emptyDecls();
  let parsed = 0;
  for (const file of files) {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch {
      continue;
    }
    if (!INTERESTING.some((t) => buf.indexOf(t) !== -1)) continue;
    const text = buf.toString('utf8');
    const tree = parser.parse(text);
    if (!tree) continue;
    try {
      // Later headers do not override earlier ones for the same name: keep the first (sorted walk,
      // include/ before arch/… is not guaranteed, so prefer include/linux and include/net explicitly).
      const one = collectDecls(tree.rootNode, relative(kernelDir, file), emptyDecls());
      const preferred = /^include\//.test(relative(kernelDir, file));
      if (preferred) mergeDecls(decls, one);
      else fillDecls(decls, one);
      parsed++;
    } finally {
      tree.delete();
    }
  }
  compactDecls(decls);
  const era = eraOfTree(kernelDir);
  const index: HeaderIndex = {
    version: INDEX_VERSION,
    key,
    kernelDir,
    headers: files.length,
    parsed,
    decls,
    era: era ? { ...era, helpers: [...era.helpers].sort() } : null,
  };
  try {
    mkdirSync(join(cacheRoot(), 'index'), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(index));
    renameSync(tmp, path);
  } catch (e) {
    opts.onProgress?.(`could not store the index: ${(e as Error).message}`);
  }
  return { ...index, built: true };
}

const PRIMITIVE = /^(?:int|char|short|long|unsigned|signed|float|double|bool|_Bool|void|__?[us](?:8|16|32|64)|__[lb]e(?:16|32|64)|size_t|ssize_t|dma_addr_t|gfp_t|atomic_t|atomic64_t|refcount_t|spinlock_t|<fn>|\?)$/;
/** Macro bodies that can type an expression or touch fields: casts, member access, frag names. */
const MACRO_KEEP = /frag|bio_vec|->|\.\s*[A-Za-z_]|\(\s*(?:const\s+)?(?:struct|union)\b|\*\s*\)/;

/**
 * Drop what can never make an expression frag-typed or a bvec use: primitive members, variables and
 * return types, parameters of functions without a struct bio_vec * one, and plain-value macros.
 * The index shrinks about fivefold, and every worker holds a copy.
 */
export function compactDecls(decls: DeclSet): DeclSet {
  const keepType = (t: CType | null) => !!t && !PRIMITIVE.test(t.base);
  for (const members of Object.values(decls.structs)) {
    for (const [name, t] of Object.entries(members)) if (!keepType(t)) delete members[name];
  }
  for (const [name, t] of Object.entries(decls.vars)) if (!keepType(t)) delete decls.vars[name];
  const env = new Env([decls]);
  for (const [name, f] of Object.entries(decls.funcs)) {
    const bvec = f.params.some((p) => env.isBioVecPtr(p));
    if (!bvec && !keepType(f.ret)) delete decls.funcs[name];
    else if (!bvec) decls.funcs[name] = { ret: f.ret, params: [], names: [] };
  }
  for (const [name, m] of Object.entries(decls.macros)) if (!MACRO_KEEP.test(m.body)) delete decls.macros[name];
  return decls;
}
