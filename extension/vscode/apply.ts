// "Netmem: Apply netmem series", and the per-patch status of the series against the linked
// checkout that the Series view and the status bar show (seriesStatus / onDidChangeSeriesStatus).
import * as vscode from 'vscode';
import { applyDecided, DEFAULT_BRANCH, describeOutcome, gatherFacts, stashChanges, type ApplyOutcome } from '../core/series/apply';
import { loadSeries, SeriesError, type Series } from '../core/series/model';
import { preflight, type PreflightDecision } from '../core/series/preflight';
import { seriesStatus as computeStatus, type PatchState, type SeriesStatus } from '../core/series/status';
import { log } from './log';
import { requireTrust } from './trust';
import { kernelDir, onDidChangeKernel, onDidChangeSeries, seriesSource } from './workspace';

/** A patch's state in the linked checkout. */
export type PatchStatus = PatchState;

const statusEmitter = new vscode.EventEmitter<SeriesStatus | undefined>();
let current: SeriesStatus | undefined;
let generation = 0;

/** Fires when the per-patch status changes (after an apply, a new kernel or series, HEAD moving). */
export const onDidChangeSeriesStatus = statusEmitter.event;

/** The last computed status of the current series against the linked checkout, if any. */
export function seriesStatus(): SeriesStatus | undefined {
  return current;
}

/** The state of patch `index` (1-based) of the current series, if known. */
export function patchStatus(index: number): PatchStatus | undefined {
  return current?.patches.find((p) => p.index === index)?.state;
}

/** Recomputes the status (it runs git, so only in a trusted workspace with a linked checkout). */
export async function refreshSeriesStatus(): Promise<SeriesStatus | undefined> {
  const mine = ++generation;
  const dir = kernelDir();
  let next: SeriesStatus | undefined;
  if (dir && vscode.workspace.isTrusted) {
    try {
      next = await computeStatus(dir, await loadSeries(seriesSource()));
      log().info(`status: ${next.patches.map((p) => `${p.index}:${p.state}`).join(' ')} (${next.elapsedMs} ms)`);
    } catch (e) {
      log().warn(`status: ${(e as Error).message}`);
    }
  }
  if (mine !== generation) return current;
  current = next;
  statusEmitter.fire(current);
  return current;
}

function branchSetting(): string {
  return vscode.workspace.getConfiguration('netmem').get<string>('branch', DEFAULT_BRANCH).trim() || DEFAULT_BRANCH;
}

async function decide(dir: string, series: Series, branch: string): Promise<PreflightDecision> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Netmem: checking the checkout' }, async () => preflight(await gatherFacts(dir, series, branch)));
}

/** Asks whether to stash a dirty checkout; returns the stash, or undefined when the user declines. */
async function offerStash(dir: string, files: string[], series: Series, branch: string): Promise<{ commit: string; message: string } | undefined> {
  const shown = files.slice(0, 20).map((f) => `• ${f}`);
  if (files.length > shown.length) shown.push(`… and ${files.length - shown.length} more`);
  const stash = 'Stash and apply';
  const pick = await vscode.window.showWarningMessage(
    `Netmem: ${dir} has uncommitted changes, so the series was not applied.`,
    { modal: true, detail: `${shown.join('\n')}\n\n"Stash and apply" saves all of them (untracked files too) with git stash; the stash is kept, get it back with git stash pop.` },
    stash,
  );
  if (pick !== stash) return undefined;
  const message = `netmem: uncommitted work before applying "${series.title}" on ${branch} (${new Date().toISOString()})`;
  const saved = await stashChanges(dir, message);
  log().info(`apply: stashed the uncommitted changes as ${saved.commit} "${message}"`);
  return saved;
}

async function runApply(dir: string, series: Series, decision: PreflightDecision): Promise<ApplyOutcome> {
  const total = decision.kind === 'apply' ? decision.apply.length : 0;
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Netmem: applying ${series.title}`, cancellable: true },
    (progress, token) => {
      const controller = new AbortController();
      token.onCancellationRequested(() => controller.abort());
      let reported = 0;
      return applyDecided(
        {
          kernelDir: dir,
          series,
          signal: controller.signal,
          onProgress: (message, done) => {
            log().info(`apply: ${message}`);
            const increment = done !== undefined && total ? ((done - reported) * 100) / total : undefined;
            if (done !== undefined) reported = done;
            progress.report({ message, ...(increment ? { increment } : {}) });
          },
        },
        decision,
      );
    },
  );
}

/** The command. Returns what happened (for callers and tests), undefined when it did not start. */
async function applyCommand(): Promise<ApplyOutcome | undefined> {
  if (!requireTrust('Applying the series')) return undefined;
  const dir = kernelDir();
  if (!dir) {
    const select = 'Select kernel checkout…';
    const pick = await vscode.window.showWarningMessage('Netmem: no kernel checkout is linked; select one to apply the series to.', select);
    if (pick === select) await vscode.commands.executeCommand('netmem.selectKernel');
    return undefined;
  }
  const showLog = 'Show log';
  try {
    const series = await loadSeries(seriesSource());
    const branch = branchSetting();
    let decision = await decide(dir, series, branch);
    let stash: { commit: string; message: string } | undefined;
    if (decision.kind === 'refused-dirty') {
      stash = await offerStash(dir, decision.files, series, branch);
      if (!stash) {
        log().info(`apply: not applied, ${decision.files.length} uncommitted file(s) in ${dir}`);
        return decision;
      }
      decision = await decide(dir, series, branch);
    }
    for (const note of decision.kind === 'apply' ? decision.notes : []) log().info(`apply: note: ${note}`);
    const outcome = await runApply(dir, series, decision);
    log().info(`apply: ${describeOutcome(outcome, series.patches.length)}`);
    const kept = stash ? ` Your uncommitted changes are in the stash "${stash.message}" (${stash.commit.slice(0, 12)}); git stash pop brings them back.` : '';
    switch (outcome.kind) {
      case 'applied':
        void vscode.window.showInformationMessage(`Netmem: Applied ${outcome.commits.length} patches on branch ${outcome.branch}.${kept}`);
        break;
      case 'already-applied':
        void vscode.window.showInformationMessage(`Netmem: the series is applied already (on ${outcome.branch}).${kept}`);
        break;
      case 'conflict':
        void vscode.window
          .showErrorMessage(`Netmem: patch ${outcome.patch.index}/${series.patches.length} "${outcome.patch.subject}" does not apply (conflicts in ${outcome.files.join(', ')}); nothing was changed.${kept}`, showLog)
          .then((pick) => pick && log().show(true));
        break;
      case 'cancelled':
        void vscode.window.showInformationMessage(`Netmem: apply cancelled; nothing was changed.${kept}`);
        break;
      case 'refused':
      case 'refused-dirty':
        void vscode.window.showErrorMessage(`Netmem: ${describeOutcome(outcome, series.patches.length).split('\n')[0]}${kept}`, showLog).then((pick) => pick && log().show(true));
        break;
    }
    void refreshSeriesStatus();
    return outcome;
  } catch (e) {
    log().error(`apply: ${(e as Error).message}`);
    const what = e instanceof SeriesError ? 'the series cannot be read' : 'apply failed';
    void vscode.window.showErrorMessage(`Netmem: ${what}: ${(e as Error).message}`, showLog).then((pick) => pick && log().show(true));
    return undefined;
  }
}

export function activate(ctx: vscode.ExtensionContext): void {
  let timer: NodeJS.Timeout | undefined;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refreshSeriesStatus(), 500);
  };
  let watcher: vscode.FileSystemWatcher | undefined;
  const watch = () => {
    watcher?.dispose();
    const dir = kernelDir();
    // HEAD moving (checkout, am, commit) changes what is applied.
    watcher = dir ? vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(dir), '.git/{HEAD,refs/heads/**}')) : undefined;
    if (watcher) for (const ev of [watcher.onDidChange, watcher.onDidCreate, watcher.onDidDelete]) ev(later);
  };
  watch();
  ctx.subscriptions.push(
    statusEmitter,
    { dispose: () => (clearTimeout(timer), watcher?.dispose()) },
    vscode.commands.registerCommand('netmem.applySeries', applyCommand),
    onDidChangeKernel(() => (watch(), later())),
    onDidChangeSeries(later),
    vscode.workspace.onDidGrantWorkspaceTrust(later),
  );
  later();
}
