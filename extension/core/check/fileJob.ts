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
}

const INCLUDE_RE = /^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"/gm;

export class FileJob {
  private readonly headerText = new Map<string, string>();
  /** One buffer reused for every read: a tree scan reads ~1.2 GB and keeps almost none of it. */
  private readonly scratch = Buffer.allocUnsafe(1 << 20);

  constructor(
    private readonly checker: Checker,
    private readonly prefilter: Prefilter | null,
    private readonly maxFileSize: number,
  ) {}

  private localHeaders(file: string, text: string): string[] {
    const out: string[] = [];
    for (const m of text.matchAll(INCLUDE_RE)) {
      const p = resolve(dirname(file), m[1]);
      let t = this.headerText.get(p);
      if (t === undefined) {
        try {
          const st = statSync(p);
          t = st.isFile() && st.size <= this.maxFileSize ? readFileSync(p, 'latin1') : '';
        } catch {
          t = '';
        }
        this.headerText.set(p, t);
      }
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

  run(file: string): FileOutcome {
    let got: { buf: Buffer | null; size: number };
    try {
      got = this.read(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      return { file, findings: [], skipped: `unreadable (${code || (e as Error).message})`, candidate: false, bytes: 0 };
    }
    if (!got.buf) return { file, findings: [], candidate: false, bytes: got.size };
    if (got.size > this.maxFileSize) {
      return { file, findings: [], skipped: `too large to parse (${(got.size / 1048576).toFixed(1)} MiB)`, candidate: true, bytes: got.size };
    }
    const buf = got.buf;
    if (this.prefilter) {
      if (!this.prefilter.mayMatch(buf)) return { file, findings: [], candidate: false, bytes: buf.length };
      const latin = buf.toString('latin1');
      if (!this.prefilter.isCandidate(latin, this.localHeaders(file, latin))) return { file, findings: [], candidate: false, bytes: buf.length };
    }
    try {
      const r = this.checker.checkText(file, decode(buf));
      return { file, findings: r.findings, skipped: r.skipped, candidate: true, bytes: buf.length };
    } catch (e) {
      return { file, findings: [], skipped: `checker error: ${(e as Error).message}`, candidate: true, bytes: buf.length };
    }
  }
}
