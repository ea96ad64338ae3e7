// Loading tree-sitter (WASM) and the C grammar once per process. Both .wasm files ship beside the
// bundle (dist/); tests running from the sources point at the same built files.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Language, Parser } from 'web-tree-sitter';
import { wasmDir } from '../util/assets';

export const RUNTIME_WASM = 'tree-sitter.wasm';
export const C_GRAMMAR_WASM = 'tree-sitter-c.wasm';

const loaded = new Map<string, Promise<Language>>();

/** The C language, loaded from `dir` (default: the package's dist/). */
export function loadC(dir: string = wasmDir()): Promise<Language> {
  let p = loaded.get(dir);
  if (!p) {
    p = (async () => {
      await Parser.init({ locateFile: (name: string) => join(dir, name) });
      // Read the bytes ourselves: a clear ENOENT beats the loader's fetch-style error.
      const bytes = await readFile(join(dir, C_GRAMMAR_WASM));
      return Language.load(bytes);
    })();
    p.catch(() => loaded.delete(dir));
    loaded.set(dir, p);
  }
  return p;
}

/** A new parser for C. Call `delete()` on it, and on every tree it makes, when done. */
export async function createCParser(dir?: string): Promise<Parser> {
  const language = await loadC(dir);
  const parser = new Parser();
  parser.setLanguage(language);
  return parser;
}
