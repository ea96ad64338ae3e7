// A series on disk: a folder of `git format-patch` files with an optional `series` file giving the
// order. Enough of each patch for the kernel runner: its subject and the paths it touches.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { packageRoot } from '../util/assets';

export interface PatchFile {
  /** Absolute path of the .patch file. */
  path: string;
  subject: string;
  /** Paths the patch changes (the new name for renames), relative to the tree. */
  files: string[];
}

export class SeriesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeriesError';
  }
}

export const BUNDLED_SERIES = () => join(packageRoot(), 'patches');

/** The Subject header, unfolded, without its `[PATCH …]` prefix. */
export function patchSubject(text: string): string | undefined {
  const header = text.split(/\r?\n\r?\n/, 1)[0]!;
  const m = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/m.exec(header);
  if (!m) return undefined;
  return m[1]!.replace(/\r?\n[ \t]+/g, ' ').replace(/^(\[[^\]]*\]\s*)+/, '').trim();
}

/** Paths touched by the diffs in a patch. */
export function patchPaths(text: string): string[] {
  const files = new Set<string>();
  for (const m of text.matchAll(/^diff --git a\/(\S+) b\/(\S+)\r?$/gm)) files.add(m[2]!);
  return [...files];
}

/** Reads a series folder: `series` order when present, else the *.patch files by name; no cover letter. */
export async function readSeriesDir(dir: string): Promise<PatchFile[]> {
  const root = resolve(dir);
  if (!existsSync(root)) throw new SeriesError(`no series at ${root}`);
  let names: string[];
  const order = join(root, 'series');
  if (existsSync(order)) {
    names = (await readFile(order, 'utf8'))
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
  } else {
    names = (await readdir(root)).filter((n) => n.endsWith('.patch')).sort();
  }
  const patches: PatchFile[] = [];
  for (const name of names) {
    const path = join(root, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new SeriesError(`${basename(root)}/series names ${name}, which does not exist`);
    }
    const files = patchPaths(text);
    if (files.length === 0) {
      if (/^0000-|cover-letter/.test(name)) continue;
      throw new SeriesError(`${name} holds no diff`);
    }
    patches.push({ path, subject: patchSubject(text) ?? name, files });
  }
  if (patches.length === 0) throw new SeriesError(`no patches in ${root}`);
  return patches;
}
