// The checker's public data types. Positions are 0-based: `line` counts lines from 0 and `col` counts
// UTF-16 code units from 0 (what tree-sitter's JS binding and VS Code use). The CLI prints them 1-based.

export type RuleId = 'frag-field-access' | 'frag-as-bio-vec' | 'frag-macro-field-access';

export const RULE_IDS: readonly RuleId[] = ['frag-field-access', 'frag-as-bio-vec', 'frag-macro-field-access'];

export interface Position {
  line: number;
  col: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface TextEdit {
  range: Range;
  newText: string;
}

export type Severity = 'warning' | 'error' | 'info';

export interface Finding {
  /** The path as given to the checker (absolute for tree scans). */
  file: string;
  rule: RuleId;
  message: string;
  severity: Severity;
  range: Range;
  /** The helper the code should call instead, when there is one in this tree. */
  helper?: string;
  /** Edits that replace the access by the helper; present only when the rewrite is safe. */
  fix?: TextEdit[];
  /** The access sits in a macro: in an argument at its use site, or in the macro's definition. */
  viaMacro?: 'use' | 'definition';
  /** For definition-site findings reported at a use: where the macro's access is. */
  related?: { file: string; range: Range; message: string }[];
}

/** A C type as far as the checker needs it: a base name plus levels of pointer and array. */
export interface CType {
  /** `int`, `skb_frag_t`, `struct bio_vec`, `union foo`, or `?` for a type the checker cannot name. */
  base: string;
  ptr: number;
  arr: number;
}

export interface FuncDecl {
  ret: CType;
  params: (CType | null)[];
  /** Parameter names where known (used for local scopes). */
  names: (string | null)[];
}

export interface MacroDecl {
  /** null: object-like macro. */
  params: string[] | null;
  body: string;
  file: string;
  /** 0-based position of the body's first character in `file`. */
  line: number;
  col: number;
}

/** Declarations gathered from one file or from many (the header index). Plain JSON. */
export interface DeclSet {
  typedefs: Record<string, CType>;
  /** `struct tag` / `union tag` → member name → type. Anonymous members are flattened in. */
  structs: Record<string, Record<string, CType>>;
  vars: Record<string, CType>;
  funcs: Record<string, FuncDecl>;
  macros: Record<string, MacroDecl>;
}

export function emptyDecls(): DeclSet {
  return { typedefs: {}, structs: {}, vars: {}, funcs: {}, macros: {} };
}

export class CheckError extends Error {}
