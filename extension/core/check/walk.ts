// Listing the files of a scan, one directory at a time (so the walk can be shared out to workers).
// Symlinked directories are not followed, so loops cannot happen; `.git` is never entered.
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join, resolve } from 'node:path';
import { CheckError } from './types';

export interface Skip {
  file: string;
  reason: string;
}

export const DEFAULT_EXTENSIONS = ['.c', '.h'];

export function wanted(extensions: string[] = DEFAULT_EXTENSIONS): (name: string) => boolean {
  return (name) => extensions.some((e) => name.endsWith(e));
}

/** List `dir` (not recursively): wanted files into `files`, subdirectories into `dirs`. */
export function listDir(dir: string, want: (name: string) => boolean, files: string[], dirs: string[], skipped: Skip[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    skipped.push({ file: dir, reason: `unreadable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
    return;
  }
  for (const e of entries) {
    if (e.isDirectory()) {
      if (e.name !== '.git') dirs.push(join(dir, e.name));
    } else if (e.isFile()) {
      if (want(e.name)) files.push(join(dir, e.name));
    } else if (e.isSymbolicLink()) {
      const p = join(dir, e.name);
      let st;
      try {
        st = statSync(p);
      } catch (err) {
        if (want(e.name)) skipped.push({ file: p, reason: `broken or looping symlink (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
        continue;
      }
      if (st.isDirectory()) skipped.push({ file: p, reason: 'symlink to a directory: not followed' });
      else if (st.isFile() && want(e.name)) files.push(p);
    }
  }
}

/** Split scan roots into files (taken as they are) and directories to walk. */
export function splitRoots(roots: string[], skipped: Skip[]): { files: string[]; dirs: string[] } {
  const files: string[] = [];
  const dirs: string[] = [];
  for (const r of roots) {
    const abs = resolve(r);
    let st;
    try {
      st = statSync(abs);
    } catch (e) {
      throw new CheckError(`${r}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (st.isDirectory()) dirs.push(abs);
    else if (st.isFile()) files.push(abs);
    else skipped.push({ file: abs, reason: 'not a regular file' });
  }
  return { files, dirs };
}

/** Files to scan under `roots` (files given directly are taken as they are). */
export function listFiles(roots: string[], extensions = DEFAULT_EXTENSIONS): { files: string[]; skipped: Skip[] } {
  const skipped: Skip[] = [];
  const { files, dirs } = splitRoots(roots, skipped);
  const want = wanted(extensions);
  // Depth first, in directory order.
  const walk = (dir: string) => {
    const sub: string[] = [];
    listDir(dir, want, files, sub, skipped);
    for (const d of sub) walk(d);
  };
  for (const d of dirs) walk(d);
  return { files, skipped };
}
