// Where series come from, and a compact view of a series for callers that only need each patch's
// subject and paths. The parsing itself is in mbox.ts (files → Series model); this is a view over it.
import { join } from 'node:path';
import { packageRoot } from '../util/assets';
import { loadSeries, parseDiffs, parseSubject } from './mbox';
import { type Patch } from './model';

export { SeriesError } from './model';

export interface PatchFile {
  /** The .patch file (or the mbox) the patch came from. */
  path: string;
  subject: string;
  /** Paths the patch changes (the new name for renames), relative to the tree. */
  files: string[];
  patch: Patch;
}

export const BUNDLED_SERIES = () => join(packageRoot(), 'patches');

/** The Subject header, unfolded, without its `[PATCH …]` prefix. */
export function patchSubject(text: string): string | undefined {
  const header = text.split(/\r?\n\r?\n/, 1)[0]!;
  const m = /^Subject:[ \t]*(.*(?:\r?\n[ \t].*)*)/m.exec(header);
  return m ? parseSubject(m[1]!.replace(/\r?\n[ \t]+/g, ' ')).subject : undefined;
}

/** Paths touched by the diffs in a patch text (new names for renames), once each. */
export function patchPaths(text: string): string[] {
  return [...new Set(parseDiffs(text.split(/\r?\n/)).map((f) => f.path))];
}

export function patchFileView(patch: Patch): PatchFile {
  return { path: patch.sourcePath ?? '', subject: patch.subject, files: [...new Set(patch.files.map((f) => f.path))], patch };
}

/** Reads a series (folder or mbox) as PatchFile views; the cover letter is not among them. */
export async function readSeriesDir(dir: string): Promise<PatchFile[]> {
  return (await loadSeries(dir)).patches.map(patchFileView);
}
