// Reading a series: an mbox (as `git format-patch --stdout`, b4 or a mail client saves it, LF or
// CRLF) or a folder of .patch files with an optional `series` order file, into the Series model.
import { existsSync, statSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { SeriesError, type CoverLetter, type FileDiff, type Hunk, type Patch, type Person, type Series, type Trailer } from './model';

/** One mail: decoded, unfolded headers (lower-case names), the header block as sent, and the decoded body. */
interface Message {
  headers: Map<string, string>;
  headerLines: string[];
  body: string;
}

const MONTHS = 'Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec';
const DAYS = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
/** An mbox separator: `From <sender> <asctime date>`, e.g. `From 1a2b… Mon Sep 17 00:00:00 2001`. */
const FROM_LINE = new RegExp(`^From \\S+ +(?:${DAYS}) (?:${MONTHS}) +\\d+ \\d\\d:\\d\\d(?::\\d\\d)? (?:\\S+ )?\\d{4}\\s*$`);
const HEADER_LINE = /^[!-9;-~]+:/;

// ---------------------------------------------------------------------------------------------
// Mail syntax

/** Decodes RFC 2047 encoded words (`=?utf-8?q?…?=`, `=?UTF-8?B?…?=`); whitespace between words goes. */
export function decodeWords(value: string): string {
  const word = /=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=/g;
  return value.replace(/(=\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[QqBb]\?[^?\s]*\?=)/g, '$1').replace(word, (all, charset: string, enc: string, text: string) => {
    const cs = charset.replace(/\*.*$/, '');
    let bytes: Buffer;
    if (enc.toUpperCase() === 'B') bytes = Buffer.from(text, 'base64');
    else bytes = qpBytes(text.replace(/_/g, ' '));
    return decodeCharset(bytes, cs) ?? all;
  });
}

function decodeCharset(bytes: Buffer, charset: string): string | undefined {
  try {
    return new TextDecoder(charset.toLowerCase()).decode(bytes);
  } catch {
    return undefined;
  }
}

function qpBytes(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      out.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(out);
}

/** `Name <email>`, `"Last, First" <email>`, `email (Name)` or a bare address. */
export function parsePerson(value: string): Person {
  const v = value.trim();
  const angle = /^(.*?)\s*<([^>]*)>\s*$/.exec(v);
  if (angle) return { name: angle[1]!.replace(/^"(.*)"$/, '$1').replace(/\\(.)/g, '$1').trim() || angle[2]!, email: angle[2]!.trim() };
  const paren = /^(\S+@\S+)\s*\((.*)\)$/.exec(v);
  if (paren) return { name: paren[2]!.trim(), email: paren[1]! };
  return { name: v, email: v.includes('@') ? v : '' };
}

/** Splits the text into messages; a text without mbox separators is one message. */
function splitMbox(text: string): string[][] {
  let lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  // A CRLF mbox (saved by a mail client): every line ends in CR; drop one from each.
  const crlf = lines.length > 0 && lines.filter((l) => l.endsWith('\r')).length >= lines.length * 0.9;
  if (crlf) lines = lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const messages: string[][] = [];
  let current: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const atBoundary = i === 0 || lines[i - 1] === '' || current === undefined;
    if (FROM_LINE.test(line) && atBoundary && HEADER_LINE.test(lines[i + 1] ?? '')) {
      current = [];
      messages.push(current);
      continue;
    }
    if (!current) {
      if (!line.trim()) continue;
      if (!HEADER_LINE.test(line)) return [];
      current = [];
      messages.push(current);
    }
    // mboxrd/mboxo quoting of body lines that start with "From ".
    current.push(/^>+From /.test(line) ? line.slice(1) : line);
  }
  return messages;
}

function parseMessage(lines: string[]): Message | undefined {
  const headerLines: string[] = [];
  let i = 0;
  for (; i < lines.length && lines[i] !== ''; i++) {
    const line = lines[i]!;
    if (/^[ \t]/.test(line) && headerLines.length) headerLines.push(line);
    else if (HEADER_LINE.test(line)) headerLines.push(line);
    else break; // not a header: the body starts without a blank line
  }
  if (headerLines.length === 0) return undefined;
  const headers = new Map<string, string>();
  let name = '';
  for (const line of headerLines) {
    if (/^[ \t]/.test(line)) {
      headers.set(name, `${headers.get(name)} ${line.trim()}`);
      continue;
    }
    const colon = line.indexOf(':');
    name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    // The first of a repeated header wins (Received etc. do not matter here).
    if (!headers.has(name)) headers.set(name, value);
    else name = `${name}\0dup`;
  }
  for (const [k, v] of headers) headers.set(k, decodeWords(v));
  const rawBody = lines.slice(lines[i] === '' ? i + 1 : i).join('\n');
  const type = headers.get('content-type') ?? 'text/plain';
  const body = decodeBody(type, headers.get('content-transfer-encoding') ?? '', rawBody, headers.get('subject') ?? '?', 0);
  return { headers, headerLines, body };
}

/** A body or MIME part as text: transfer encoding and charset undone. */
function decodeLeaf(type: string, cte: string, raw: string): string {
  const charset = /charset="?([^";\s]+)"?/i.exec(type)?.[1] ?? 'utf-8';
  const enc = cte.trim().toLowerCase();
  let bytes: Buffer | undefined;
  if (enc === 'quoted-printable') bytes = qpBytes(raw.replace(/=\n/g, ''));
  else if (enc === 'base64') bytes = Buffer.from(raw.replace(/\s+/g, ''), 'base64');
  if (bytes) return decodeCharset(bytes, charset) ?? bytes.toString('latin1');
  if (!/^utf-?8$/i.test(charset) && !/^(us-)?ascii$/i.test(charset)) return decodeCharset(Buffer.from(raw, 'latin1'), charset) ?? raw;
  return raw;
}

/** Parts of a multipart body that carry patch text: text/plain, text/x-patch, text/x-diff, or a .patch/.diff attachment. */
function isPatchText(type: string, disposition: string): boolean {
  if (/^text\/(plain|x-patch|x-diff)\b/i.test(type)) return true;
  return /\.(patch|diff)"?\s*(;|$)/i.test(`${type}; ${disposition}`);
}

/**
 * The text of a mail body. A multipart mail (a patch sent as an attachment) gives its patch-text
 * parts in order, joined by newlines, as git mailinfo does; HTML, signatures and binary
 * attachments are left out.
 */
function decodeBody(type: string, cte: string, raw: string, subject: string, depth: number): string {
  if (!/^multipart\//i.test(type)) return decodeLeaf(type, cte, raw);
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
  if (!boundary || depth > 4) throw new SeriesError(`"${subject}" is a multipart mail without a usable boundary`);
  const marker = `--${boundary[1] ?? boundary[2]}`;
  const texts: string[] = [];
  let part: string[] | undefined;
  const flush = () => {
    if (!part) return;
    let k = 0;
    const hdr = new Map<string, string>();
    let last = '';
    for (; k < part.length && part[k] !== ''; k++) {
      const line = part[k]!;
      if (/^[ \t]/.test(line) && last) hdr.set(last, `${hdr.get(last)} ${line.trim()}`);
      else {
        const colon = line.indexOf(':');
        if (colon < 0) break;
        last = line.slice(0, colon).trim().toLowerCase();
        hdr.set(last, line.slice(colon + 1).trim());
      }
    }
    const partType = hdr.get('content-type') ?? 'text/plain';
    const partBody = part.slice(k + 1).join('\n');
    if (/^multipart\//i.test(partType)) texts.push(decodeBody(partType, hdr.get('content-transfer-encoding') ?? '', partBody, subject, depth + 1));
    else if (isPatchText(partType, hdr.get('content-disposition') ?? '')) texts.push(decodeLeaf(partType, hdr.get('content-transfer-encoding') ?? '', partBody));
  };
  for (const line of raw.split('\n')) {
    if (line.trimEnd() === `${marker}--`) {
      flush();
      part = undefined;
      break;
    }
    if (line.trimEnd() === marker) {
      flush();
      part = [];
    } else part?.push(line);
  }
  flush();
  if (texts.length === 0) throw new SeriesError(`"${subject}" is a multipart mail with no text or patch part`);
  return texts.map((t) => t.replace(/\n*$/, '')).join('\n');
}

// ---------------------------------------------------------------------------------------------
// Subjects and commit messages

export interface SubjectInfo {
  subject: string;
  prefixes: string[];
  version?: number;
  number?: number;
  total?: number;
  reply: boolean;
}

/** `[PATCH net-next v2 2/3] net: x` → subject "net: x", version 2, number 2 of 3. */
export function parseSubject(raw: string): SubjectInfo {
  let s = raw.replace(/\s+/g, ' ').trim();
  const reply = /^(re|aw|sv):/i.test(s);
  s = s.replace(/^((re|aw|sv|fwd?):\s*)+/i, '');
  const prefixes: string[] = [];
  for (let m; (m = /^\[([^\]]*)\]\s*/.exec(s)); s = s.slice(m[0].length)) prefixes.push(m[1]!.trim());
  const info: SubjectInfo = { subject: s.trim(), prefixes, reply };
  for (const token of prefixes.join(' ').split(/[\s,]+/)) {
    const v = /^v(\d+)$/i.exec(token);
    if (v) info.version = Number(v[1]);
    const n = /^(\d+)\/(\d+)$/.exec(token);
    if (n) {
      info.number = Number(n[1]);
      info.total = Number(n[2]);
    }
  }
  return info;
}

const TRAILER = /^([A-Za-z][A-Za-z0-9-]*):[ \t]*(\S.*)$/;
const KNOWN_TRAILERS = /^(signed-off-by|reviewed-by|acked-by|tested-by|reported-by|suggested-by|co-developed-by|cc|link|fixes|closes|helped-by|requested-by|message-id)$/i;

/** Splits a commit message into its text and its trailer block (the last paragraph, when it is one). */
export function splitTrailers(message: string): { message: string; trailers: Trailer[] } {
  const text = message.replace(/\s+$/, '');
  const start = text.lastIndexOf('\n\n');
  const last = start < 0 ? text : text.slice(start + 2);
  const trailers: Trailer[] = [];
  let known = 0;
  for (const line of last.split('\n')) {
    if (/^[ \t]+\S/.test(line) && trailers.length) {
      trailers.at(-1)!.value += ` ${line.trim()}`;
      continue;
    }
    if (/^\[.*\]$/.test(line.trim())) continue; // maintainer notes like [ed: fixed typo]
    const m = TRAILER.exec(line);
    if (!m) return { message: text, trailers: [] };
    if (KNOWN_TRAILERS.test(m[1]!)) known++;
    trailers.push({ key: m[1]!, value: m[2]!.trim() });
  }
  if (!trailers.length || !known) return { message: text, trailers: [] };
  return { message: start < 0 ? '' : text.slice(0, start), trailers };
}

// ---------------------------------------------------------------------------------------------
// Diffs

function unquotePath(p: string): string {
  if (!p.startsWith('"')) return p;
  const inner = p.slice(1, -1);
  const bytes: number[] = [];
  const esc: Record<string, number> = { n: 10, t: 9, '"': 34, '\\': 92, a: 7, b: 8, f: 12, r: 13, v: 11 };
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c === '\\') {
      const oct = /^[0-7]{3}/.exec(inner.slice(i + 1));
      if (oct) {
        bytes.push(parseInt(oct[0], 8));
        i += 3;
      } else {
        bytes.push(esc[inner[i + 1]!] ?? inner.charCodeAt(i + 1));
        i++;
      }
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

function stripPrefix(p: string): string | null {
  const path = unquotePath(p.replace(/\t.*$/, '').trim());
  if (path === '/dev/null') return null;
  return path.replace(/^[^/]+\//, '');
}

/** The two paths of `diff --git a/X b/Y`; for unquoted names with spaces, the split where both halves agree. */
function gitDiffPaths(rest: string): [string, string] | undefined {
  const quoted = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
  if (quoted && (rest.includes('"') || !/ .* /.test(rest))) return [stripPrefix(quoted[1]!)!, stripPrefix(quoted[2]!)!];
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === ' ') {
    const a = stripPrefix(rest.slice(0, half))!;
    const b = stripPrefix(rest.slice(half + 1))!;
    if (a === b) return [a, b];
  }
  return undefined;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

/** Parses the diffs in `lines` (from a patch mail's body). Lines outside diffs are ignored. */
export function parseDiffs(lines: string[]): FileDiff[] {
  const files: FileDiff[] = [];
  let file: FileDiff | undefined;
  const finish = () => {
    if (!file) return;
    if (!file.path) file.path = file.newPath ?? file.oldPath ?? '';
    if (file.status === 'modified' && !file.hunks.length && !file.binary && file.oldMode && file.newMode) file.status = 'mode';
    files.push(file);
    file = undefined;
  };
  const start = (oldPath: string | null, newPath: string | null): FileDiff => ({ oldPath, newPath, path: '', status: 'modified', binary: false, hunks: [], added: 0, removed: 0 });
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('diff --git ')) {
      finish();
      const paths = gitDiffPaths(line.slice('diff --git '.length));
      file = start(paths?.[0] ?? null, paths?.[1] ?? null);
      continue;
    }
    if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ') && HUNK.test(lines[i + 2] ?? '')) {
      // A plain unified diff (no diff --git line), or the ---/+++ pair of a git diff.
      if (!file || file.hunks.length) {
        finish();
        file = start(null, null);
      }
      const oldPath = stripPrefix(line.slice(4));
      const newPath = stripPrefix(lines[i + 1]!.slice(4));
      file.oldPath = oldPath;
      file.newPath = newPath;
      if (oldPath === null) file.status = 'added';
      if (newPath === null) file.status = 'deleted';
      i++;
      continue;
    }
    if (!file) continue;
    const hunk = HUNK.exec(line);
    if (hunk) {
      const h: Hunk = {
        header: line,
        oldStart: Number(hunk[1]),
        oldLines: hunk[2] === undefined ? 1 : Number(hunk[2]),
        newStart: Number(hunk[3]),
        newLines: hunk[4] === undefined ? 1 : Number(hunk[4]),
        section: hunk[5]!.trim(),
        lines: [],
        added: 0,
        removed: 0,
      };
      let oldLeft = h.oldLines;
      let newLeft = h.newLines;
      while (i + 1 < lines.length && (oldLeft > 0 || newLeft > 0 || lines[i + 1]!.startsWith('\\'))) {
        const l = lines[++i]!;
        const c = l[0] ?? ' '; // a mail client may have eaten a context line's only space
        if (c === '+') {
          newLeft--;
          h.added++;
        } else if (c === '-') {
          oldLeft--;
          h.removed++;
        } else if (c === ' ' || l === '') {
          oldLeft--;
          newLeft--;
        } else if (c !== '\\') {
          throw new SeriesError(`a hunk of ${file.newPath ?? file.oldPath} is cut short (at "${l.slice(0, 40)}")`);
        }
        h.lines.push(l === '' ? ' ' : l);
      }
      if (oldLeft > 0 || newLeft > 0) throw new SeriesError(`a hunk of ${file.newPath ?? file.oldPath} is cut short (the mail ends inside it)`);
      file.hunks.push(h);
      file.added += h.added;
      file.removed += h.removed;
      continue;
    }
    if (file.hunks.length) {
      if (line.startsWith('-- ') || line === '--') finish();
      continue;
    }
    let m;
    if ((m = /^new file mode (\d+)/.exec(line))) {
      file.status = 'added';
      file.newMode = m[1];
      file.oldPath = null;
    } else if ((m = /^deleted file mode (\d+)/.exec(line))) {
      file.status = 'deleted';
      file.oldMode = m[1];
      file.newPath = null;
    } else if ((m = /^old mode (\d+)/.exec(line))) file.oldMode = m[1];
    else if ((m = /^new mode (\d+)/.exec(line))) {
      file.newMode = m[1];
      if (file.status === 'modified') file.status = 'mode';
    } else if ((m = /^(rename|copy) from (.*)$/.exec(line))) {
      file.status = m[1] === 'rename' ? 'renamed' : 'copied';
      file.oldPath = unquotePath(m[2]!);
    } else if ((m = /^(rename|copy) to (.*)$/.exec(line))) file.newPath = unquotePath(m[2]!);
    else if ((m = /^similarity index (\d+)%/.exec(line))) file.similarity = Number(m[1]);
    else if ((m = /^index ([0-9a-f]+)\.\.([0-9a-f]+)(?: (\d+))?/.exec(line))) {
      file.oldBlob = m[1];
      file.newBlob = m[2];
      if (m[3] && !file.newMode) file.oldMode = file.newMode = m[3];
    } else if (/^Binary files .* differ$/.test(line)) file.binary = true;
    else if (line === 'GIT binary patch') {
      file.binary = true;
      while (i + 1 < lines.length && /^(|literal \d+|delta \d+|[A-Za-z][0-9A-Za-z!#$%&()*+;<=>?@^_`{|}~-]+)$/.test(lines[i + 1]!) && !lines[i + 1]!.startsWith('diff --git ')) i++;
    }
  }
  finish();
  for (const f of files) {
    if (f.status === 'mode' && f.hunks.length) f.status = 'modified';
    f.path = f.newPath ?? f.oldPath ?? f.path;
  }
  return files.filter((f) => f.path);
}

// ---------------------------------------------------------------------------------------------
// Messages → patches

interface Parsed {
  info: SubjectInfo;
  msg: Message;
  author?: Person;
  date?: string;
  message: string;
  trailers: Trailer[];
  files: FileDiff[];
  raw: string;
  sourcePath?: string;
  messageId?: string;
}

/** The commit message part of a body: up to the `---` separator or the first diff. */
function commitPart(bodyLines: string[]): { text: string; rest: string[] } {
  let end = bodyLines.findIndex((l, i) => l === '---' || l.startsWith('diff --git ') || (l.startsWith('--- ') && bodyLines[i + 1]?.startsWith('+++ ')) || l.startsWith('Index: '));
  if (end < 0) end = bodyLines.length;
  return { text: bodyLines.slice(0, end).join('\n'), rest: bodyLines.slice(end) };
}

/** The message as one LF mail that `git am` reads the same way: plain 8-bit UTF-8 text. */
function rawMessage(msg: Message, fromLine: string): string {
  const keep = msg.headerLines.filter((_line, i, all) => {
    // Drop the transfer headers (with their folded continuation lines): the body here is decoded.
    let j = i;
    while (j > 0 && /^[ \t]/.test(all[j]!)) j--;
    return !/^(content-type|content-transfer-encoding|mime-version):/i.test(all[j]!);
  });
  const body = msg.body
    .split('\n')
    .map((l) => (FROM_LINE.test(l) || /^>+From /.test(l) ? `>${l}` : l))
    .join('\n');
  return `${fromLine}\n${keep.join('\n')}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n${body.replace(/\n*$/, '\n')}`;
}

function parseOne(lines: string[], sourcePath?: string): Parsed | undefined {
  const msg = parseMessage(lines);
  if (!msg) return undefined;
  let bodyLines = msg.body.split('\n');
  let author = msg.headers.has('from') ? parsePerson(msg.headers.get('from')!) : undefined;
  let date = msg.headers.get('date');
  let rawSubject = msg.headers.get('subject') ?? '';
  // In-body From:/Date:/Subject: lines (someone else's patch sent on) override the mail's.
  while (bodyLines.length && /^(From|Date|Subject): /.test(bodyLines[0]!)) {
    const [, key, value] = /^(From|Date|Subject): (.*)$/.exec(bodyLines.shift()!)!;
    if (key === 'From') author = parsePerson(decodeWords(value!));
    else if (key === 'Date') date = value;
    else rawSubject = decodeWords(value!);
  }
  while (bodyLines.length && bodyLines[0] === '') bodyLines.shift();
  const { text, rest } = commitPart(bodyLines);
  const { message, trailers } = splitTrailers(text);
  const id = msg.headers.get('message-id')?.replace(/^<|>$/g, '');
  const fromId = /^[0-9a-f]{40}$/.test(msg.headers.get('x-git-commit') ?? '') ? msg.headers.get('x-git-commit') : '0000000000000000000000000000000000000000';
  return {
    info: parseSubject(rawSubject),
    msg,
    author,
    date,
    message: message.trim(),
    trailers,
    files: parseDiffs(rest),
    raw: rawMessage(msg, `From ${fromId} Mon Sep 17 00:00:00 2001`),
    sourcePath,
    ...(id ? { messageId: id } : {}),
  };
}

function toCover(p: Parsed): CoverLetter {
  return {
    subject: p.info.subject,
    body: p.msg.body.replace(/\n*$/, '\n'),
    ...(p.author ? { author: p.author } : {}),
    ...(p.date ? { date: p.date } : {}),
    raw: p.raw,
    ...(p.sourcePath ? { sourcePath: p.sourcePath } : {}),
  };
}

function toPatch(p: Parsed, index: number, total: number): Patch {
  const messageId = p.messageId;
  return {
    index,
    total,
    ...(p.info.version !== undefined ? { version: p.info.version } : {}),
    subject: p.info.subject,
    rawSubject: p.msg.headers.get('subject') ?? p.info.subject,
    author: p.author ?? { name: 'unknown', email: '' },
    ...(p.date ? { date: p.date } : {}),
    ...(messageId ? { messageId } : {}),
    message: p.message,
    trailers: p.trailers,
    files: p.files,
    added: p.files.reduce((n, f) => n + f.added, 0),
    removed: p.files.reduce((n, f) => n + f.removed, 0),
    raw: p.raw,
    ...(p.sourcePath ? { sourcePath: p.sourcePath } : {}),
  };
}

function parseAll(text: string, what: string, sourcePath?: string, bare?: string): Parsed[] {
  if (text.includes('\0')) throw new SeriesError(`${what} is not a patch series: it is a binary file`);
  let messages = splitMbox(text);
  if (!messages.length && bare && parseDiffs(text.split(/\r?\n/)).length) {
    // A quilt-style patch without mail headers: its file name is the subject.
    const subject = bare.replace(/^\d{4}-/, '').replace(/\.(patch|diff)$/, '');
    messages = [[`From: unknown <unknown@netmem-series.invalid>`, `Subject: [PATCH] ${subject}`, '', ...text.replace(/\r\n/g, '\n').split('\n')]];
  }
  if (!messages.length && bare) throw new SeriesError(`${what} holds no diff`);
  if (!messages.length) throw new SeriesError(`${what} is not a patch series: it is neither an mbox nor a patch mail (no mail headers found)`);
  return messages.map((m) => parseOne(m, sourcePath)).filter((p): p is Parsed => p !== undefined);
}

const hasDiff = (p: Parsed) => p.files.length > 0;

/** Parses an mbox holding a series (cover letter optional, patches in any order). */
export function parseMbox(text: string, sourcePath?: string): Series {
  const what = sourcePath ? basename(sourcePath) : 'the text';
  const parsed = parseAll(text, what, sourcePath).filter((p) => !p.info.reply);
  const patches = parsed.filter(hasDiff);
  const covers = parsed.filter((p) => !hasDiff(p) && (p.info.number === 0 || p.info.number === undefined));
  if (!patches.length) throw new SeriesError(`${what} is not a patch series: none of its ${parsed.length} message(s) holds a diff`);
  const versions = new Set(patches.map((p) => p.info.version ?? 1));
  if (versions.size > 1) throw new SeriesError(`${what} holds more than one version of the series (v${[...versions].join(', v')}); save one version only`);
  const numbered = patches.filter((p) => p.info.number !== undefined);
  let ordered: Parsed[];
  if (numbered.length === 0) ordered = patches;
  else {
    if (numbered.length !== patches.length) throw new SeriesError(`${what} mixes numbered ([PATCH n/M]) and unnumbered patches`);
    const totals = new Set(numbered.map((p) => p.info.total));
    if (totals.size > 1) throw new SeriesError(`${what} holds patches of different series (n/${[...totals].join(', n/')})`);
    const total = [...totals][0]!;
    const byNumber = new Map<number, Parsed>();
    for (const p of numbered) {
      if (p.info.number! < 1 || p.info.number! > total) throw new SeriesError(`${what}: patch number ${p.info.number}/${total} is out of range`);
      if (byNumber.has(p.info.number!)) throw new SeriesError(`${what} holds patch ${p.info.number}/${total} twice`);
      byNumber.set(p.info.number!, p);
    }
    const missing = Array.from({ length: total }, (_, i) => i + 1).filter((n) => !byNumber.has(n));
    if (missing.length) throw new SeriesError(`${what} is missing patch${missing.length > 1 ? 'es' : ''} ${missing.map((n) => `${n}/${total}`).join(', ')}`);
    ordered = Array.from({ length: total }, (_, i) => byNumber.get(i + 1)!);
  }
  const cover = covers[0];
  const version = patches[0]!.info.version;
  return {
    title: cover?.info.subject ?? (ordered.length === 1 ? ordered[0]!.info.subject : basename(sourcePath ?? 'series')),
    ...(version !== undefined ? { version } : {}),
    ...(cover ? { cover: toCover(cover) } : {}),
    patches: ordered.map((p, i) => toPatch(p, i + 1, ordered.length)),
    source: { kind: 'mbox', path: sourcePath ?? '' },
  };
}

/** Parses one patch mail (a .patch file) into a Patch at `index` of `total`. */
export function parsePatchMessage(text: string, index = 1, total = 1, sourcePath?: string): Patch {
  const what = sourcePath ? basename(sourcePath) : 'the patch';
  const parsed = parseAll(text, what, sourcePath).filter(hasDiff);
  if (parsed.length !== 1) throw new SeriesError(`${what} ${parsed.length ? 'holds more than one patch' : 'holds no diff'}`);
  return toPatch(parsed[0]!, index, total);
}

/** Reads a folder of patches: the `series` file's order when present, else the *.patch files by name. */
async function readFolder(root: string): Promise<Series> {
  let names: string[];
  const order = join(root, 'series');
  const listed = existsSync(order);
  if (listed) {
    names = (await readFile(order, 'utf8'))
      .split('\n')
      .map((l) => l.replace(/#.*/, '').trim().split(/\s+/)[0]!)
      .filter(Boolean);
  } else {
    names = (await readdir(root)).filter((n) => n.endsWith('.patch')).sort();
  }
  const found: Parsed[] = [];
  let cover: Parsed | undefined;
  for (const name of names) {
    const path = join(root, name);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new SeriesError(`${basename(root)}/series names ${name}, which does not exist`);
    }
    const parsed = parseAll(text, name, path, name);
    const patches = parsed.filter(hasDiff);
    if (!patches.length) {
      if (/^0000-|cover-letter/.test(name) || parsed.some((p) => p.info.number === 0)) {
        cover ??= parsed[0];
        continue;
      }
      throw new SeriesError(`${name} holds no diff`);
    }
    found.push(...patches);
  }
  if (!cover && listed) {
    const coverFile = (await readdir(root)).find((n) => /^0000-.*\.patch$/.test(n));
    if (coverFile) cover = parseAll(await readFile(join(root, coverFile), 'utf8'), coverFile, join(root, coverFile)).find((p) => !hasDiff(p));
  }
  if (!found.length) throw new SeriesError(`no patches in ${root}`);
  const version = found[0]!.info.version;
  return {
    title: cover?.info.subject ?? basename(root),
    ...(version !== undefined ? { version } : {}),
    ...(cover ? { cover: toCover(cover) } : {}),
    patches: found.map((p, i) => toPatch(p, i + 1, found.length)),
    source: { kind: 'folder', path: root },
  };
}

/** Loads a series from a folder of patches or an mbox file. */
export async function loadSeries(path: string): Promise<Series> {
  const root = resolve(path);
  if (!existsSync(root)) throw new SeriesError(`no series at ${root}`);
  if (statSync(root).isDirectory()) return readFolder(root);
  const text = await readFile(root, 'utf8');
  return parseMbox(text, root);
}
