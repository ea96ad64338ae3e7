// Which `skb_frag_t` a kernel tree has: its field names and the skb_frag_*() helpers that exist there,
// read from the tree's own include/linux/skbuff.h (and the headers that later moved helpers into).

export type EraId = 'pre-5.4' | 'bio_vec' | 'netmem-series' | '6.9+' | 'custom';

/** What a field of skb_frag_t holds, whatever the era calls it. */
export type FieldRole = 'page' | 'page-struct' | 'netmem' | 'len' | 'off';

export interface Era {
  id: EraId;
  /** Human wording, e.g. "5.4–6.8 (typedef struct bio_vec skb_frag_t)". */
  label: string;
  /** This tree's field names of skb_frag_t. */
  fields: string[];
  /** Helpers that exist in this tree. */
  helpers: Set<string>;
  /** Whether the era came from a checkout (false: the 5.4–6.8 default). */
  fromTree: boolean;
}

/** Field names of skb_frag_t over the eras (pre-5.4 `page` is a struct whose `p` is the page). */
export const KNOWN_FIELDS: Record<string, { role: FieldRole; era: EraId }> = {
  bv_page: { role: 'page', era: 'bio_vec' },
  bv_len: { role: 'len', era: 'bio_vec' },
  bv_offset: { role: 'off', era: 'bio_vec' },
  page: { role: 'page-struct', era: 'pre-5.4' },
  page_offset: { role: 'off', era: 'pre-5.4' },
  size: { role: 'len', era: 'pre-5.4' },
  netmem: { role: 'netmem', era: '6.9+' },
  len: { role: 'len', era: '6.9+' },
  offset: { role: 'off', era: '6.9+' },
};

export const ERA_WORDING: Record<EraId, string> = {
  'pre-5.4': 'a pre-5.4 name',
  bio_vec: 'a 5.4–6.8 (struct bio_vec) name',
  'netmem-series': "the netmem series' name",
  '6.9+': 'a 6.9+ name',
  custom: "this tree's name",
};

/** Helpers present in every tree from 5.4 to 6.8: the default when there is no checkout. */
export const DEFAULT_HELPERS = [
  'skb_frag_page',
  'skb_frag_off',
  'skb_frag_off_set',
  'skb_frag_off_add',
  'skb_frag_off_copy',
  'skb_frag_size',
  'skb_frag_size_set',
  'skb_frag_size_add',
  'skb_frag_size_sub',
  'skb_frag_address',
  'skb_frag_address_safe',
  'skb_frag_page_copy',
];

export function defaultEra(): Era {
  return {
    id: 'bio_vec',
    label: '5.4–6.8 (typedef struct bio_vec skb_frag_t), assumed: no kernel checkout',
    fields: ['bv_page', 'bv_len', 'bv_offset'],
    helpers: new Set(DEFAULT_HELPERS),
    fromTree: false,
  };
}

/** Files of a tree where the helpers (and the type) live: never flagged, read for the era. */
export const HELPER_HOMES = ['include/linux/skbuff.h', 'include/linux/skbuff_ref.h', 'include/net/netmem.h'];

/** Member names declared at the top level of a struct body (nested struct bodies skipped). */
function memberNames(body: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let stmt = '';
  for (const ch of body.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, ' ')) {
    if (ch === '{') depth++;
    else if (ch === '}') depth--;
    else if (ch === ';' && depth === 0) {
      const m = /(\w+)\s*(?:\[[^\]]*\]\s*)*(?::\s*\w+\s*)?$/.exec(stmt.trim());
      if (m) names.push(m[1]);
      stmt = '';
      continue;
    }
    if (depth === 0 && ch !== '}') stmt += ch;
  }
  return names;
}

/**
 * The era of a tree from the text of its skbuff.h (plus the other helper homes, concatenated).
 * Returns null when the text defines no skb_frag_t.
 */
export function detectEra(headerText: string): Era | null {
  const text = headerText;
  const helpers = new Set<string>();
  const def = /^(?:static\s+(?:__always_)?inline\s+|extern\s+)?[\w \t]*?[\s*]((?:__)?skb_frag_\w+|(?:__)?skb_fill_\w+|skb_add_rx_frag\w*)\s*\(/gm;
  for (const m of text.matchAll(def)) helpers.add(m[1]);
  for (const m of text.matchAll(/^#\s*define\s+((?:__)?skb_frag_\w+)\s*\(/gm)) helpers.add(m[1]);

  const structBody = (tag: string): string | null => {
    const re = new RegExp(`struct\\s+${tag}\\s*\\{`, 'g');
    const m = re.exec(text);
    if (!m) return null;
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    return text.slice(start, i - 1);
  };

  let id: EraId;
  let fields: string[];
  let label: string;
  if (/typedef\s+struct\s+bio_vec\s+skb_frag_t\s*;/.test(text)) {
    id = 'bio_vec';
    fields = ['bv_page', 'bv_len', 'bv_offset'];
    label = '5.4–6.8 (typedef struct bio_vec skb_frag_t)';
  } else {
    const td = /typedef\s+struct\s+(\w+)\s*(\{)?/g;
    let tag: string | null = null;
    for (const m of text.matchAll(td)) {
      // `typedef struct X skb_frag_t;` or `typedef struct X { ... } skb_frag_t;`
      const after = text.slice(m.index + m[0].length, m.index + m[0].length + 4000);
      if (m[2]) {
        const body = structBody(m[1]);
        if (body !== null && new RegExp(`^[\\s\\S]{0,${body.length + 8}}?\\}\\s*skb_frag_t\\s*;`).test(after)) tag = m[1];
      } else if (/^\s*skb_frag_t\s*;/.test(after)) tag = m[1];
      if (tag) break;
    }
    if (!tag) return null;
    const body = structBody(tag) ?? '';
    fields = memberNames(body);
    if (fields.includes('page_offset')) {
      id = 'pre-5.4';
      label = `before 5.4 (struct ${tag}: page.p, page_offset, size)`;
    } else if (fields.includes('netmem')) {
      id = '6.9+';
      label = `6.9+ (struct ${tag}: netmem, len, offset)`;
    } else if (fields.includes('bv_page')) {
      id = 'netmem-series';
      label = `the netmem series (struct ${tag} with a struct netmem *bv_page)`;
    } else {
      id = 'custom';
      label = `struct ${tag} (${fields.join(', ')})`;
    }
  }
  return { id, label, fields, helpers, fromTree: true };
}

/** All field names worth looking at: every era's plus this tree's. */
export function fieldNames(era: Era): string[] {
  return [...new Set([...Object.keys(KNOWN_FIELDS), ...era.fields])];
}

export function roleOf(field: string): FieldRole | undefined {
  return Object.hasOwn(KNOWN_FIELDS, field) ? KNOWN_FIELDS[field].role : undefined;
}
