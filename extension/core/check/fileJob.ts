// Checking one file of a tree scan: read, prefilter, parse and check. Shared by the worker threads and
// the in-thread path for small scans.
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Checker } from './checker';
import { decode } from './checker';
import type { Prefilter } from './prefilter';
import type { Finding } from './types';

export interface FileOutcome {
  file: string;
  findings: Finding[];
  skipped?: string;
  candidate: boolean;
  bytes: number;
  /** A candidate the prefilter kept but that was not parsed here: the scanning thread checks it. */
  unchecked?: boolean;
}

const INCLUDE_RE = /^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"/gm;

/** Local header texts kept for the prefilter: files of one directory come together, so a few suffice. */
const HEADER_CACHE_ENTRIES = 64;
const HEADER_CACHE_CHARS = 4 * 1024 * 1024;

export class FileJob {
  /** Most recently used last. */
  private readonly headerText = new Map<string, string>();
  private headerChars = 0;
  /** One buffer reused for every read: a tree scan reads ~1.2 GB and keeps almost none of it. */
  private readonly scratch = Buffer.allocUnsafe(1 << 20);

  /** `checker` null: only screen files (prefilter), never parse. */
  constructor(
    private readonly checker: Checker | null,
    private readonly prefilter: Prefilter | null,
    private readonly maxFileSize: number,
  ) {}

  private headerOf(p: string): string {
    let t = this.headerText.get(p);
    if (t !== undefined) {
      this.headerText.delete(p);
      this.headerText.set(p, t);
      return t;
    }
    try {
      const st = statSync(p);
      t = st.isFile() && st.size <= this.maxFileSize ? readFileSync(p, 'latin1') : '';
    } catch {
      t = '';
    }
    this.headerText.set(p, t);
    this.headerChars += t.length;
    for (const [k, v] of this.headerText) {
      if (this.headerText.size <= HEADER_CACHE_ENTRIES && this.headerChars <= HEADER_CACHE_CHARS) break;
      if (k === p) break;
      this.headerText.delete(k);
      this.headerChars -= v.length;
    }
    return t;
  }

  private localHeaders(file: string, text: string): string[] {
    const out: string[] = [];
    for (const m of text.matchAll(INCLUDE_RE)) {
      const t = this.headerOf(resolve(dirname(file), m[1]));
      if (t) out.push(t);
    }
    return out;
  }

  /**
   * The file's bytes: in the scratch buffer (valid until the next read) when they fit, else a fresh
   * buffer — but only after a chunked first-stage prefilter says the file can matter, so the huge
   * generated headers of a tree are streamed through 1 MiB at a time and never held.
   */
  private read(file: string): { buf: Buffer | null; size: number } {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size <= this.scratch.length) {
        let n = 0;
        for (;;) {
          const got = readSync(fd, this.scratch, n, this.scratch.length - n, null);
          if (got === 0) break;
          n += got;
        }
        return { buf: this.scratch.subarray(0, n), size: n };
      }
      if (this.prefilter) {
        // Chunks overlap by 256 bytes so no token is cut in two.
        let pos = 0;
        let match = false;
        while (!match) {
          const got = readSync(fd, this.scratch, 0, this.scratch.length, pos);
          if (got === 0) break;
          match = this.prefilter.mayMatch(this.scratch.subarray(0, got));
          if (got < this.scratch.length) break;
          pos += got - 256;
        }
        if (!match) return { buf: null, size };
      }
      if (size > this.maxFileSize) return { buf: Buffer.alloc(0), size };
      return { buf: readFileSync(file), size };
    } finally {
      closeSync(fd);
    }
  }

  /** Read and prefilter one file: a candidate comes back `unchecked`, for check(). */
  screen(file: string): FileOutcome {
    return this.screenRead(file).outcome;
  }

  /** screen(), and a candidate's bytes (the scratch buffer: valid until the next read). */
  private screenRead(file: string): { outcome: FileOutcome; buf?: Buffer } {
    const skip = (reason: string, candidate: boolean, bytes: number) => ({ outcome: { file, findings: [], skipped: reason, candidate, bytes } });
    const pass = (bytes: number) => ({ outcome: { file, findings: [], candidate: false, bytes } });
    let got: { buf: Buffer | null; size: number };
    try {
      got = this.read(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      return skip(`unreadable (${code || (e as Error).message})`, false, 0);
    }
    if (!got.buf) return pass(got.size);
    if (got.size > this.maxFileSize) return skip(`too large to parse (${(got.size / 1048576).toFixed(1)} MiB)`, true, got.size);
    const buf = got.buf;
    if (this.prefilter) {
      if (!this.prefilter.mayMatch(buf)) return pass(buf.length);
      const latin = buf.toString('latin1');
      if (!this.prefilter.isCandidate(latin, this.localHeaders(file, latin))) return pass(buf.length);
    }
    return { outcome: { file, findings: [], candidate: true, unchecked: true, bytes: buf.length }, buf };
  }

  /** Parse and check one file (a candidate). */
  check(file: string, buf?: Buffer): FileOutcome {
    if (!this.checker) throw new Error('FileJob without a checker cannot check');
    let bytes: Buffer;
    try {
      bytes = buf ?? readFileSync(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      return { file, findings: [], skipped: `unreadable (${code || (e as Error).message})`, candidate: true, bytes: 0 };
    }
    try {
      const r = this.checker.checkText(file, decode(bytes));
      return { file, findings: r.findings, skipped: r.skipped, candidate: true, bytes: bytes.length };
    } catch (e) {
      return { file, findings: [], skipped: `checker error: ${(e as Error).message}`, candidate: true, bytes: bytes.length };
    }
  }

  /** Screen, and check a candidate. */
  run(file: string): FileOutcome {
    const { outcome, buf } = this.screenRead(file);
    return outcome.unchecked ? this.check(file, buf) : outcome;
  }
}
