// What the bundled patch files say, read with nothing but regular expressions (so the suite's
// expectations never come from the extension's own parser), and small helpers the Series tests share.
// Not a test file: the *.test.ts files that import it bundle it.
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PlainNode } from '../../../extension/vscode/seriesView';

export const EXTENSION_ID = 'netmem-series.netmem-series';

export interface HunkFacts {
  header: string;
  body: string[];
}

export interface PatchFacts {
  name: string;
  text: string;
  subject: string;
  files: { path: string; hunks: HunkFacts[] }[];
  added: number;
  removed: number;
}

export function readPatch(dir: string, name: string): PatchFacts {
  const text = readFileSync(join(dir, name), 'utf8');
  const subject = /^Subject: (.*(?:\n[ \t].*)*)/m.exec(text)![1]!.replace(/\n[ \t]+/g, ' ').replace(/^\[[^\]]*\]\s*/, '');
  const files: PatchFacts['files'] = [];
  let added = 0;
  let removed = 0;
  let inDiff = false;
  for (const line of text.split('\n')) {
    if (line === '-- ') break;
    const diff = /^diff --git a\/\S+ b\/(\S+)$/.exec(line);
    if (diff) {
      files.push({ path: diff[1]!, hunks: [] });
      inDiff = false;
      continue;
    }
    if (line.startsWith('@@ ')) {
      files[files.length - 1]!.hunks.push({ header: line, body: [] });
      inDiff = true;
      continue;
    }
    if (!inDiff) continue;
    const hunks = files[files.length - 1]!.hunks;
    hunks[hunks.length - 1]!.body.push(line);
    if (line.startsWith('+')) added++;
    if (line.startsWith('-')) removed++;
  }
  return { name, text, subject, files, added, removed };
}

/** The lines a hunk adds: their 1-based line on the hunk's new side, and their text. */
export function addedLines(h: HunkFacts): { line: number; text: string }[] {
  let line = Number(/\+(\d+)/.exec(h.header)![1]);
  const out: { line: number; text: string }[] = [];
  for (const body of h.body) {
    if (body[0] === '-' || body[0] === '\\') continue;
    if (body[0] === '+') out.push({ line, text: body.slice(1) });
    line++;
  }
  return out;
}

export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return ext;
}

/** The bundled series: its cover letter and its patches, in order. */
export function bundled(): { dir: string; cover: PatchFacts; patches: PatchFacts[] } {
  const dir = join(extension().extensionPath, 'patches');
  const names = readdirSync(dir).filter((n) => n.endsWith('.patch')).sort();
  const [cover, ...patches] = names.map((n) => readPatch(dir, n));
  assert.ok(cover && /^0000-/.test(cover.name), `no cover letter among ${names.join(', ')}`);
  assert.ok(patches.length > 0, 'the bundled series has no patches');
  return { dir, cover, patches };
}

/** Polls `get` (sync or async) until it gives something truthy; fails after the timeout. */
export async function waitFor<T>(what: string, get: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const tree = () => vscode.commands.executeCommand<PlainNode[]>('netmem.series.getTree');
export const patchNodes = (nodes: PlainNode[]) => nodes.filter((n) => n.contextValue?.startsWith('patch.'));
