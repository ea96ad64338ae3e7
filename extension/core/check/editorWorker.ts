// The editor's check worker: it keeps a copy of every open C document (kept in step with the
// editor's content changes), re-checks it incrementally on a retained tree when asked (settling the
// tree after a pause, and telling the editor when that changed the findings), and runs
// workspace scans, so that no parse or header indexing ever runs on the editor's own thread (a first
// check of net/core/skbuff.c takes ~0.3 s, of a 5 MB file ~3 s).
//
// Bundled as dist/checkWorker.js; loading it in a worker whose workerData carries EDITOR_WORKER_MARK
// starts the worker, anywhere else it does nothing.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createChecker, type Checker, type CheckPhases } from './checker';
import { scanTree, type ScanProgress, type ScanResult } from './scan';
import type { Finding } from './types';
import { CancelledError } from '../util/process';

export const EDITOR_WORKER_MARK = 'netmem-editor-worker';

/** Idle time after a check before the document's whole tree is reparsed (settled). */
export const SETTLE_AFTER_MS = 100;

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
  /** The findings of a check; with id 0, unasked: a settled document's findings changed (see settle()). */
  | { type: 'checked'; id: number; path: string; version: number; findings: Finding[]; skipped?: string; ms: number; incremental?: boolean; trace?: CheckTrace }
  /** The worker does not hold that document (or lost step with it): send `open` again. */
  | { type: 'unknown'; id: number; path: string }
  | { type: 'progress'; id: number; progress: ScanProgress }
  | { type: 'scanned'; id: number; result: ScanResult; era: string }
  | { type: 'failed'; id: number; message: string; cancelled?: boolean };

/** Where a held document's check spent its time (epoch ms for instants, ms for durations). */
export interface CheckTrace extends Partial<CheckPhases> {
  /** When the worker took the check request. */
  received: number;
  /** Applying the content changes since the last check. */
  apply: number;
  /** When the reply was posted. */
  sent: number;
}

/** Wall-clock time with sub-millisecond precision, comparable across threads. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

export interface EditorWorkerInit {
  mark: typeof EDITOR_WORKER_MARK;
}

interface HeldDoc {
  kernelDir: string;
  version: number;
  text: string;
  /** The content changes did not fit the held text: wait for a fresh `open`. */
  lost: boolean;
  /** Time spent applying changes since the last check. */
  applyMs: number;
  /** The version the checker holds (last checked). */
  checked?: number;
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
        docs.set(msg.path, { kernelDir, version: msg.version, text: msg.text, lost: false, applyMs: 0 });
        return;
      }
      case 'change': {
        const d = docs.get(msg.path);
        if (!d || d.lost) return;
        const t0 = performance.now();
        try {
          d.text = applyContentChanges(d.text, msg.changes);
          d.version = msg.version;
          if (d.text.length !== msg.length) d.lost = true;
        } catch {
          d.lost = true;
        }
        d.applyMs += performance.now() - t0;
        return;
      }
      case 'check': {
        const d = docs.get(msg.path);
        if (!d || d.lost) return send({ type: 'unknown', id: msg.id, path: msg.path });
        const received = epochMs();
        const checker = await checkerFor(d.kernelDir);
        const t0 = performance.now();
        const r = checker.checkText(msg.path, d.text, { retain: true });
        const ms = performance.now() - t0;
        const trace: CheckTrace = { received, apply: d.applyMs, ...r.phases, sent: 0 };
        d.applyMs = 0;
        d.checked = d.version;
        trace.sent = epochMs();
        send({ type: 'checked', id: msg.id, path: msg.path, version: d.version, findings: r.findings, skipped: r.skipped, incremental: r.incremental, ms, trace });
        return settleSoon(msg.path);
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

  // After a pause in checks of a document, its full reparse: a check that parsed only the edited
  // function is verified on the whole tree, and the editor told when that changed the findings.
  const settleTimers = new Map<string, NodeJS.Timeout>();
  const settleSoon = (path: string) => {
    clearTimeout(settleTimers.get(path));
    const timer = setTimeout(() => {
      settleTimers.delete(path);
      // Busy: the check that follows will schedule it again.
      if (waiting > 0) return;
      queue = queue.then(async () => {
        const d = docs.get(path);
        // Changed since the check: the next check takes those changes first.
        if (!d || d.lost || d.checked !== d.version) return;
        const t0 = performance.now();
        const r = (await checkerFor(d.kernelDir)).settle(path);
        if (r?.differs) send({ type: 'checked', id: 0, path, version: d.version, findings: r.findings, skipped: r.skipped, incremental: r.incremental, ms: performance.now() - t0 });
      });
    }, SETTLE_AFTER_MS);
    timer.unref();
    settleTimers.set(path, timer);
  };

  // Messages are handled one after the other, in order, so a check always sees every change before it.
  let queue = Promise.resolve();
  let waiting = 0;
  port.on('message', (msg: ToEditorWorker) => {
    waiting++;
    queue = queue
      .then(() => handle(msg))
      .catch((e: Error) => {
        const id = 'id' in msg ? msg.id : -1;
        send({ type: 'failed', id, message: e.message });
      })
      .finally(() => waiting--);
  });
}

if (!isMainThread && parentPort && (workerData as EditorWorkerInit | undefined)?.mark === EDITOR_WORKER_MARK) {
  runEditorWorker();
}
