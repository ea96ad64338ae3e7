// The editor's check worker: it keeps a copy of every open C document (kept in step with the
// editor's content changes), re-checks it incrementally on a retained tree when asked, and runs
// workspace scans, so that no parse or header indexing ever runs on the editor's own thread (a first
// check of net/core/skbuff.c takes ~0.3 s, of a 5 MB file ~3 s).
//
// Bundled as dist/checkWorker.js; loading it in a worker whose workerData carries EDITOR_WORKER_MARK
// starts the worker, anywhere else it does nothing.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createChecker, type Checker } from './checker';
import { scanTree, type ScanProgress, type ScanResult } from './scan';
import type { Finding } from './types';
import { CancelledError } from '../util/process';

export const EDITOR_WORKER_MARK = 'netmem-editor-worker';

/** One content change as the editor reports it: replace `length` UTF-16 units at `offset` by `text`. */
export interface ContentChange {
  offset: number;
  length: number;
  text: string;
}

/** Apply an editor's content changes, in the order given (each offset is valid after the ones before). */
export function applyContentChanges(text: string, changes: readonly ContentChange[]): string {
  let out = text;
  for (const c of changes) {
    if (c.offset < 0 || c.length < 0 || c.offset + c.length > out.length) {
      throw new RangeError(`content change ${c.offset}+${c.length} outside a text of ${out.length}`);
    }
    out = out.slice(0, c.offset) + c.text + out.slice(c.offset + c.length);
  }
  return out;
}

export type ToEditorWorker =
  /** Start holding a document (again), with its whole text. */
  | { type: 'open'; path: string; kernelDir?: string; version: number; text: string }
  /** The document changed to `version`, whose text is `length` UTF-16 units long. */
  | { type: 'change'; path: string; version: number; length: number; changes: ContentChange[] }
  /** Check the held document now. */
  | { type: 'check'; id: number; path: string }
  /** Check a text once, without holding it (a closed file's contents on disk). */
  | { type: 'checkOnce'; id: number; path: string; kernelDir?: string; text: string }
  | { type: 'close'; path: string }
  | { type: 'scan'; id: number; roots: string[]; kernelDir?: string }
  | { type: 'cancel'; id: number };

export type FromEditorWorker =
  | { type: 'checked'; id: number; path: string; version: number; findings: Finding[]; skipped?: string; ms: number; incremental?: boolean }
  /** The worker does not hold that document (or lost step with it): send `open` again. */
  | { type: 'unknown'; id: number; path: string }
  | { type: 'progress'; id: number; progress: ScanProgress }
  | { type: 'scanned'; id: number; result: ScanResult; era: string }
  | { type: 'failed'; id: number; message: string; cancelled?: boolean };

export interface EditorWorkerInit {
  mark: typeof EDITOR_WORKER_MARK;
}

interface HeldDoc {
  kernelDir: string;
  version: number;
  text: string;
  /** The content changes did not fit the held text: wait for a fresh `open`. */
  lost: boolean;
}

function runEditorWorker(): void {
  const port = parentPort!;
  const send = (m: FromEditorWorker) => port.postMessage(m);
  const checkers = new Map<string, Promise<Checker>>();
  const docs = new Map<string, HeldDoc>();
  const scans = new Map<number, AbortController>();
  const checkerFor = (kernelDir: string): Promise<Checker> => {
    let c = checkers.get(kernelDir);
    if (!c) {
      c = createChecker(kernelDir ? { kernelDir } : { noIndex: true });
      checkers.set(kernelDir, c);
      // A failed creation is not cached: the next request tries again.
      c.catch(() => checkers.delete(kernelDir));
    }
    return c;
  };
  const closeDoc = async (path: string) => {
    const d = docs.get(path);
    if (!d) return;
    docs.delete(path);
    (await checkerFor(d.kernelDir)).close(path);
  };

  const handle = async (msg: ToEditorWorker): Promise<void> => {
    switch (msg.type) {
      case 'open': {
        const kernelDir = msg.kernelDir ?? '';
        const old = docs.get(msg.path);
        if (old && old.kernelDir !== kernelDir) await closeDoc(msg.path);
        docs.set(msg.path, { kernelDir, version: msg.version, text: msg.text, lost: false });
        return;
      }
      case 'change': {
        const d = docs.get(msg.path);
        if (!d || d.lost) return;
        try {
          d.text = applyContentChanges(d.text, msg.changes);
          d.version = msg.version;
          if (d.text.length !== msg.length) d.lost = true;
        } catch {
          d.lost = true;
        }
        return;
      }
      case 'check': {
        const d = docs.get(msg.path);
        if (!d || d.lost) return send({ type: 'unknown', id: msg.id, path: msg.path });
        const checker = await checkerFor(d.kernelDir);
        const t0 = performance.now();
        const r = checker.checkText(msg.path, d.text, { retain: true });
        return send({ type: 'checked', id: msg.id, path: msg.path, version: d.version, findings: r.findings, skipped: r.skipped, incremental: r.incremental, ms: performance.now() - t0 });
      }
      case 'checkOnce': {
        const checker = await checkerFor(msg.kernelDir ?? '');
        const t0 = performance.now();
        const r = checker.checkText(msg.path, msg.text);
        return send({ type: 'checked', id: msg.id, path: msg.path, version: -1, findings: r.findings, skipped: r.skipped, ms: performance.now() - t0 });
      }
      case 'close':
        return closeDoc(msg.path);
      case 'cancel':
        scans.get(msg.id)?.abort();
        return;
      case 'scan':
        // Not queued: a scan awaits its own workers, and documents keep being checked meanwhile.
        void scan(msg);
        return;
    }
  };

  const scan = async (msg: Extract<ToEditorWorker, { type: 'scan' }>) => {
    const ac = new AbortController();
    scans.set(msg.id, ac);
    try {
      const checker = await checkerFor(msg.kernelDir ?? '');
      const result = await scanTree(checker, msg.roots, { signal: ac.signal, onProgress: (progress) => send({ type: 'progress', id: msg.id, progress }) });
      send({ type: 'scanned', id: msg.id, result, era: checker.era.label });
    } catch (e) {
      send({ type: 'failed', id: msg.id, message: (e as Error).message, cancelled: e instanceof CancelledError || ac.signal.aborted });
    } finally {
      scans.delete(msg.id);
    }
  };

  // Messages are handled one after the other, in order, so a check always sees every change before it.
  let queue = Promise.resolve();
  port.on('message', (msg: ToEditorWorker) => {
    queue = queue.then(() => handle(msg)).catch((e: Error) => {
      const id = 'id' in msg ? msg.id : -1;
      send({ type: 'failed', id, message: e.message });
    });
  });
}

if (!isMainThread && parentPort && (workerData as EditorWorkerInit | undefined)?.mark === EDITOR_WORKER_MARK) {
  runEditorWorker();
}
