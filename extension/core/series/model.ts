// The series as the extension and the CLI see it: a cover letter and patches, each with its author,
// trailers, files and hunks. Built from a folder of `git format-patch` files or an mbox (see mbox.ts);
// every consumer (apply, status, the Series view, CodeLens, the CLI) reads this one model.

export interface Hunk {
  /** The `@@ -a,b +c,d @@ section` line. */
  header: string;
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The text after the second `@@` (usually the enclosing function), trimmed. */
  section: string;
  /** Body lines with their ' ', '+', '-' or '\' prefix, without line ends. */
  lines: string[];
  added: number;
  removed: number;
}

export type FileStatus = 'modified' | 'added' | 'deleted' | 'renamed' | 'copied' | 'mode';

export interface FileDiff {
  /** Path before the change; null for an added file. */
  oldPath: string | null;
  /** Path after the change; null for a deleted file. */
  newPath: string | null;
  /** The path to show: the new path, or the old one for a deleted file. */
  path: string;
  status: FileStatus;
  binary: boolean;
  hunks: Hunk[];
  added: number;
  removed: number;
  /** Abbreviated blob ids from the `index` line, when present. */
  oldBlob?: string;
  newBlob?: string;
  oldMode?: string;
  newMode?: string;
  /** Rename/copy similarity in percent. */
  similarity?: number;
}

export interface Person {
  name: string;
  email: string;
}

export interface Trailer {
  key: string;
  value: string;
}

export interface Patch {
  /** 1-based position in the series. */
  index: number;
  total: number;
  version?: number;
  /** The subject without its `[PATCH …]` prefix. */
  subject: string;
  /** The Subject header as sent (decoded and unfolded). */
  rawSubject: string;
  author: Person;
  date?: string;
  messageId?: string;
  /** The commit message body (without subject, trailers and the diff). */
  message: string;
  trailers: Trailer[];
  files: FileDiff[];
  added: number;
  removed: number;
  /** The patch as one LF mbox message that `git am` accepts. */
  raw: string;
  /** The file it came from (a .patch file, or the mbox). */
  sourcePath?: string;
}

export interface CoverLetter {
  subject: string;
  body: string;
  author?: Person;
  date?: string;
  raw: string;
  sourcePath?: string;
}

export interface Series {
  title: string;
  version?: number;
  cover?: CoverLetter;
  patches: Patch[];
  source: { kind: 'folder' | 'mbox'; path: string };
}

/** The paths a patch touches (both sides of a rename), for history and status queries. */
export function patchPaths(patch: Patch): string[] {
  const out = new Set<string>();
  for (const f of patch.files) {
    if (f.oldPath) out.add(f.oldPath);
    if (f.newPath) out.add(f.newPath);
  }
  return [...out];
}

/** Total diffstat of the series. */
export function seriesStat(series: Series): { files: number; added: number; removed: number } {
  const files = new Set<string>();
  let added = 0;
  let removed = 0;
  for (const p of series.patches) {
    for (const f of p.files) files.add(f.path);
    added += p.added;
    removed += p.removed;
  }
  return { files: files.size, added, removed };
}

/** A series source that cannot be read: missing, not a series, or inconsistent (duplicates, gaps). */
export class SeriesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeriesError';
  }
}

export { loadSeries, parseMbox, parsePatchMessage } from './mbox';
