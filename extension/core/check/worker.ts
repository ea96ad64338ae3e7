// The check worker thread. Loading this module in a worker started by scan.ts (its workerData carries
// WORKER_MARK) starts the worker; anywhere else it does nothing.
//
// A worker either only screens files with the text prefilter (a tree scan: the few candidates are
// parsed by the scanning thread, so workers need neither tree-sitter nor the header index) or, with
// `parse`, also parses and checks them (scans without the prefilter).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { createChecker } from './checker';
import { FileJob, type FileOutcome } from './fileJob';
import { Prefilter } from './prefilter';
import type { FromWorker, ToWorker, WorkerInit } from './scan';
import { listDir, wanted, type Skip } from './walk';

export const WORKER_MARK = 'netmem-check-worker';

async function runWorker(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  const send = (m: FromWorker) => port.postMessage(m);
  let job: FileJob;
  let dispose = () => {};
  try {
    const checker = init.parse ? await createChecker(init.checker) : null;
    if (checker) dispose = () => checker.dispose();
    job = new FileJob(checker, init.spec ? new Prefilter(init.spec) : null, init.maxFileSize);
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
    return;
  }
  const want = wanted(init.extensions);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') {
      dispose();
      port.close();
      return;
    }
    const files = [...msg.files];
    const dirs: string[] = [];
    const skipped: Skip[] = [];
    for (const d of msg.dirs) listDir(d, want, files, dirs, skipped);
    // Only files worth reporting travel back; the rest are counted.
    const results: FileOutcome[] = [];
    let bytes = 0;
    for (const file of files) {
      const o = init.parse ? job.run(file) : job.screen(file);
      bytes += o.bytes;
      if (o.candidate || o.skipped) results.push(o);
    }
    send({ type: 'results', done: files.length, listed: files.length - msg.files.length, dirsListed: msg.dirs.length, bytes, results, dirs, skipped });
  });
  send({ type: 'ready' });
}

if (!isMainThread && parentPort && (workerData as WorkerInit | undefined)?.mark === WORKER_MARK) {
  void runWorker(workerData as WorkerInit);
}
