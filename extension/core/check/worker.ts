// The check worker thread. Loading this module in a worker started by scan.ts (its workerData carries
// WORKER_MARK) starts the worker; anywhere else it does nothing.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Checker } from './checker';
import { createChecker } from './checker';
import { FileJob } from './fileJob';
import { Prefilter } from './prefilter';
import type { FromWorker, ToWorker, WorkerInit } from './scan';

export const WORKER_MARK = 'netmem-check-worker';

async function runWorker(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  const send = (m: FromWorker) => port.postMessage(m);
  let checker: Checker;
  try {
    checker = await createChecker(init.checker);
  } catch (e) {
    send({ type: 'error', message: (e as Error).message });
    return;
  }
  const job = new FileJob(checker, init.spec ? new Prefilter(init.spec) : null, init.maxFileSize);
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') {
      checker.dispose();
      port.close();
      return;
    }
    send({ type: 'results', results: msg.files.map((f) => job.run(f)) });
  });
  send({ type: 'ready' });
}

if (!isMainThread && parentPort && (workerData as WorkerInit | undefined)?.mark === WORKER_MARK) {
  void runWorker(workerData as WorkerInit);
}
