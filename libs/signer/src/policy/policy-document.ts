import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { canonicalJson, sha256Hex, utf8 } from '#crypto';
import { SignerError } from '../signer-error.js';
import { PolicyDocument } from './policy-schema.js';

/**
 * Loading a policy document: from a file (YAML or JSON, both read by the YAML 1.2 parser, of which
 * JSON is a subset) or from a document object (the `--approve-*` shorthands). A bad document throws
 * SignerError POLICY_INVALID naming the line and the field path that are wrong. The policy's version
 * hash is the SHA-256 of the bytes as loaded (of the canonical JSON for a document object).
 */

export interface LoadedDocument {
  document: PolicyDocument;
  /** The text as loaded: the file, or the canonical JSON of a document object. */
  source: string;
  /** SHA-256 (hex) of `source`'s UTF-8 bytes. */
  policyHash: string;
}

/** Largest policy file read: a policy is a page of rules, not a database. */
export const MAX_POLICY_BYTES = 1024 * 1024;

const MAX_ISSUES = 5;

export async function readPolicyFile(file: string): Promise<LoadedDocument> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'does not exist' : `cannot be read: ${(e as Error).message}`;
    throw new SignerError('POLICY_INVALID', `policy file ${file} ${what}`, { cause: e });
  }
  if (bytes.length > MAX_POLICY_BYTES) throw new SignerError('POLICY_INVALID', `policy file ${file} is larger than ${MAX_POLICY_BYTES} bytes`);
  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SignerError('POLICY_INVALID', `policy file ${file} is not UTF-8 text`);
  }
  return parsePolicySource(source, file);
}

/** Parses and validates a policy's text; `origin` names it in errors (a file path). */
export function parsePolicySource(source: string, origin = 'policy'): LoadedDocument {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const at = syntax.linePos?.[0];
    const where = at ? ` at line ${at.line}, column ${at.col}` : '';
    const first = syntax.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new SignerError('POLICY_INVALID', `${origin}${where}: not valid YAML or JSON: ${first}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new SignerError('POLICY_INVALID', `${origin}: ${(e as Error).message}`);
  }
  const parsed = PolicyDocument.safeParse(value);
  if (!parsed.success) {
    throw new SignerError('POLICY_INVALID', describeIssues(origin, parsed.error.issues, (path) => lineOf(doc, lines, path)));
  }
  return { document: parsed.data, source, policyHash: sha256Hex(utf8(source)) };
}

/** Validates a document object (built by `policyFromFlags`, or by a test); errors name the field path. */
export function loadPolicyObject(value: unknown, origin = 'policy'): LoadedDocument {
  const parsed = PolicyDocument.safeParse(value);
  if (!parsed.success) throw new SignerError('POLICY_INVALID', describeIssues(origin, parsed.error.issues, () => null));
  const source = canonicalJson(value);
  return { document: parsed.data, source, policyHash: sha256Hex(utf8(source)) };
}

type Path = readonly PropertyKey[];

/** `rules.0.match.fields.1.lt`: the dotted field path a mistake is at. */
export const fieldPath = (path: Path): string => (path.length === 0 ? '(document)' : path.map(String).join('.'));

function describeIssues(origin: string, issues: readonly z.core.$ZodIssue[], line: (path: Path) => number | null): string {
  const parts = issues.slice(0, MAX_ISSUES).map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const path = keys.length > 0 ? [...issue.path, keys[0]!] : issue.path;
    const at = line(path);
    const message = keys.length > 0 ? `unknown field${keys.length > 1 ? `s ${keys.join(', ')}` : ''}` : issue.message;
    return `${fieldPath(path)}${at !== null ? ` (line ${at})` : ''}: ${message}`;
  });
  const more = issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : '';
  return `${origin} is not a valid policy: ${parts.join('; ')}${more}`;
}

/** The line of the deepest node on `path` that exists in the YAML (a missing field: its parent's). */
function lineOf(doc: Document, lines: LineCounter, path: Path): number | null {
  for (let n = path.length; n >= 0; n--) {
    const prefix = path.slice(0, n);
    const parent = n > 0 ? doc.getIn(prefix.slice(0, -1), true) : undefined;
    const last = prefix[prefix.length - 1];
    // Point at the key of a mapping entry (`lt: abc` is reported at the `lt`), else at the node.
    if (isMap(parent)) {
      const pair = parent.items.find((p) => isNode(p.key) && 'value' in p.key && String(p.key.value) === String(last));
      if (pair && isNode(pair.key) && pair.key.range) return lines.linePos(pair.key.range[0]).line;
    }
    const node = n === 0 ? doc.contents : doc.getIn(prefix, true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return null;
}
