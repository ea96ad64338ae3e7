// Output formats for findings: gcc-style lines, JSON, SARIF 2.1.0. Positions are printed 1-based.
import { isAbsolute, relative, sep } from 'node:path';
import { RULE_IDS, type Finding, type RuleId } from './types';

export const RULE_TEXT: Record<RuleId, { name: string; short: string }> = {
  'frag-field-access': { name: 'FragFieldAccess', short: 'Direct access to a skb_frag_t field instead of a skb_frag_*() helper' },
  'frag-as-bio-vec': { name: 'FragAsBioVec', short: 'skb_frag_t (or the frags array) used as a struct bio_vec' },
  'frag-macro-field-access': { name: 'FragMacroFieldAccess', short: "A macro's definition accesses skb_frag_t fields" },
};

/**
 * Where each rule is documented, in the project's sources. SARIF wants helpUri and informationUri to
 * be absolute URIs and the project has no public home yet, so the path goes into `help` instead.
 */
export const RULE_DOCS = (id: RuleId) => `docs/rules/${id}.md`;

/** How a path is shown: relative to cwd when inside it, else to the kernel tree, else as given. */
export function displayPath(file: string, cwd: string, kernelDir?: string): string {
  if (!isAbsolute(file)) return file;
  const inside = (dir: string) => file === dir || file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  if (inside(cwd)) return relative(cwd, file);
  if (kernelDir && inside(kernelDir)) return relative(kernelDir, file);
  return file;
}

export function formatGcc(findings: Finding[], show: (f: string) => string): string[] {
  return findings.map((f) => `${show(f.file)}:${f.range.start.line + 1}:${f.range.start.col + 1}: ${f.severity}: ${f.message} [${f.rule}]`);
}

export function formatJson(findings: Finding[], show: (f: string) => string): string {
  return JSON.stringify(
    findings.map((f) => ({ ...f, file: show(f.file) })),
    null,
    2,
  );
}

function region(r: Finding['range']) {
  return { startLine: r.start.line + 1, startColumn: r.start.col + 1, endLine: r.end.line + 1, endColumn: r.end.col + 1 };
}

/** SARIF 2.1.0: one run, rules described, artifact URIs relative to %SRCROOT% when possible. */
export function formatSarif(findings: Finding[], show: (f: string) => string, version: string, srcRoot?: string): string {
  const uri = (f: string) => show(f).split(sep).map(encodeURIComponent).join('/');
  const rules = RULE_IDS.map((id) => ({
    id,
    name: RULE_TEXT[id].name,
    shortDescription: { text: RULE_TEXT[id].short },
    help: { text: `${RULE_TEXT[id].short}. Documentation: ${RULE_DOCS(id)} in the netmem-series sources.` },
    defaultConfiguration: { level: 'warning' },
  }));
  const results = findings.map((f) => {
    const rel = !isAbsolute(show(f.file));
    const res: Record<string, unknown> = {
      ruleId: f.rule,
      ruleIndex: RULE_IDS.indexOf(f.rule),
      level: f.severity === 'error' ? 'error' : f.severity === 'info' ? 'note' : 'warning',
      message: { text: f.message },
      locations: [
        {
          physicalLocation: {
            artifactLocation: rel ? { uri: uri(f.file), uriBaseId: '%SRCROOT%' } : { uri: `file://${uri(f.file)}` },
            region: region(f.range),
          },
        },
      ],
    };
    if (f.related?.length) {
      res.relatedLocations = f.related.map((r, i) => ({
        id: i,
        message: { text: r.message },
        physicalLocation: {
          artifactLocation: isAbsolute(show(r.file)) ? { uri: `file://${uri(r.file)}` } : { uri: uri(r.file), uriBaseId: '%SRCROOT%' },
          region: region(r.range),
        },
      }));
    }
    if (f.fix?.length) {
      res.fixes = [
        {
          description: { text: f.helper ? `Use ${f.helper}()` : 'Use the skb_frag_*() helpers' },
          artifactChanges: [
            {
              artifactLocation: rel ? { uri: uri(f.file), uriBaseId: '%SRCROOT%' } : { uri: `file://${uri(f.file)}` },
              replacements: f.fix.map((e) => ({ deletedRegion: region(e.range), insertedContent: { text: e.newText } })),
            },
          ],
        },
      ];
    }
    return res;
  });
  const run: Record<string, unknown> = {
    tool: { driver: { name: 'netmem check', version, semanticVersion: version, rules } },
    columnKind: 'utf16CodeUnits',
    results,
  };
  if (srcRoot) run.originalUriBaseIds = { '%SRCROOT%': { uri: `file://${srcRoot.split(sep).map(encodeURIComponent).join('/')}/` } };
  return JSON.stringify(
    { $schema: 'https://json.schemastore.org/sarif-2.1.0.json', version: '2.1.0', runs: [run] },
    null,
    2,
  );
}
