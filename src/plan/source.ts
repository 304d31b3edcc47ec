// Turns plan text (YAML or JSON) into a plain value, and JSON paths back into
// line and column. Guards against hostile documents: a size cap before any
// parsing, a cap on alias expansion (billion-laughs), and a nesting cap
// (deep documents would otherwise exhaust the stack of a recursive walker).
import { isMap, isPair, isScalar, isSeq, Lexer, LineCounter, type Node, parseDocument, visit } from 'yaml';

export const MAX_PLAN_BYTES = 1024 * 1024;
const MAX_DEPTH = 64;
const MAX_ALIAS_COUNT = 100;

export interface PlanIssue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export type Locate = (path: readonly (string | number)[]) => { line: number; column: number } | undefined;

export type SourceResult = { ok: true; value: unknown; locate: Locate } | { ok: false; issues: PlanIssue[] };

export function toPointer(path: readonly PropertyKey[]): string {
  return path.length === 0
    ? '/'
    : path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function parsePlanSource(text: string): SourceResult {
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_PLAN_BYTES) {
    return {
      ok: false,
      issues: [{ path: '/', message: `the plan is ${formatBytes(bytes)}; plans are limited to 1 MiB` }],
    };
  }
  // Flow-style nesting (`[[[[…`) is checked before parsing, because the parser
  // itself recurses per level.
  const flowDepth = maxFlowDepth(text);
  if (flowDepth > MAX_DEPTH) {
    return { ok: false, issues: [{ path: '/', message: `the plan nests deeper than ${MAX_DEPTH} levels` }] };
  }
  return looksLikeJson(text) ? parseJson(text) : parseYaml(text);
}

function looksLikeJson(text: string): boolean {
  return /^\s*\{/.test(text);
}

// JSON is read with JSON.parse (YAML's rules for tabs and escapes differ), and
// located through the YAML parser, which accepts nearly every JSON document.
function parseJson(text: string): SourceResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const message = (err as Error).message;
    const at = /position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : unexpectedTokenOffset(text, message);
    const pos = offset === undefined ? undefined : linePos(text, offset);
    // V8 quotes the surrounding source (newlines included) in some messages;
    // an issue is one line, and the line and column already say where.
    const reason = message
      .replace(/ in JSON at position.*$/s, '')
      .replace(/^(Unexpected token '[\s\S]*?'), .* is not valid JSON$/s, '$1')
      .replace(/\s+/g, ' ');
    return { ok: false, issues: [{ path: '/', message: `invalid JSON: ${reason}`, ...pos }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  if (doc.errors.length > 0) return { ok: true, value, locate: () => undefined };
  // JSON.parse keeps the last of two equal keys without a word; a JSON plan
  // refuses them as YAML does, or `"project"` twice would deploy the wrong one.
  const duplicates = duplicateKeys(doc, lineCounter);
  if (duplicates.length > 0) return { ok: false, issues: duplicates };
  return { ok: true, value, locate: (path) => position(doc.contents as Node | null, lineCounter, path) };
}

function parseYaml(text: string): SourceResult {
  const lineCounter = new LineCounter();
  let doc: ReturnType<typeof parseDocument>;
  try {
    // uniqueKeys compares every key with every other (30,000 keys took 7 s);
    // duplicateKeys below does the same check in one pass.
    doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: false, strict: true });
  } catch (err) {
    return {
      ok: false,
      issues: [{ path: '/', message: `the plan could not be parsed: ${(err as Error).message}` }],
    };
  }
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({
        path: '/',
        message:
          e.code === 'MULTIPLE_DOCS'
            ? 'a plan is one YAML document; remove the second --- and what follows it'
            : // The parser turns its own stack overflow on deep block nesting into an error.
              /Maximum call stack/.test(e.message)
              ? `the plan nests deeper than ${MAX_DEPTH} levels`
              : (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, ''),
        line: e.linePos?.[0].line,
        column: e.linePos?.[0].col,
      })),
    };
  }
  const depth = nodeDepth(doc.contents as Node | null, 0);
  if (depth > MAX_DEPTH) {
    return { ok: false, issues: [{ path: '/', message: `the plan nests deeper than ${MAX_DEPTH} levels` }] };
  }
  const duplicates = duplicateKeys(doc, lineCounter);
  if (duplicates.length > 0) return { ok: false, issues: duplicates };
  const comments = interpolationComments(doc, text, lineCounter);
  if (comments.length > 0) return { ok: false, issues: comments };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const message = (err as Error).message;
    return {
      ok: false,
      issues: [
        {
          path: '/',
          message: /alias/i.test(message)
            ? `the plan expands too many aliases (more than ${MAX_ALIAS_COUNT}); write the values out`
            : `the plan could not be read: ${message}`,
        },
      ],
    };
  }
  return { ok: true, value, locate: (path) => position(doc.contents as Node | null, lineCounter, path) };
}

function duplicateKeys(doc: ReturnType<typeof parseDocument>, lineCounter: LineCounter): PlanIssue[] {
  const issues: PlanIssue[] = [];
  visit(doc, {
    Map(_key, map, ancestors) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        if (!isScalar(pair.key)) continue;
        const name = String(pair.key.value);
        if (seen.has(name)) {
          const pos = pair.key.range ? lineCounter.linePos(pair.key.range[0]) : undefined;
          issues.push({
            path: toPointer([...pathOf(ancestors, map), name]),
            message: `key ${name} appears more than once`,
            ...(pos ? { line: pos.line, column: pos.col } : {}),
          });
        }
        seen.add(name);
      }
    },
  });
  return issues;
}

// In a plain (unquoted) YAML value, ` #` starts a comment, so `run: echo #{tenant}`
// silently means `run: echo`. A comment that begins with `{` right after a
// value is such a lost `#{…}`: refuse it rather than deploy a truncated command.
function interpolationComments(
  doc: ReturnType<typeof parseDocument>,
  text: string,
  lineCounter: LineCounter,
): PlanIssue[] {
  const issues: PlanIssue[] = [];
  visit(doc, {
    Scalar(_key, node, ancestors) {
      if (!node.comment?.startsWith('{') || !node.range) return;
      const [start, valueEnd, end] = node.range;
      const at = text.indexOf('#{', valueEnd);
      const pos = lineCounter.linePos(at >= 0 && at < end ? at : start);
      const ref = `#${node.comment.split(/\s/)[0]}`;
      issues.push({
        path: toPointer(pathOf(ancestors, node)),
        message: `YAML reads ${ref} here as a comment, so it is not part of the value; put the value in quotes`,
        line: pos.line,
        column: pos.col,
      });
    },
  });
  return issues;
}

/** The JSON path of a node from the ancestors `visit` passes. */
function pathOf(ancestors: readonly unknown[], node: unknown): (string | number)[] {
  const chain = [...ancestors, node];
  const path: (string | number)[] = [];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isPair(parent) && parent.value === child) {
      path.push(isScalar(parent.key) ? String(parent.key.value) : String(parent.key));
    } else if (isSeq(parent)) {
      path.push(parent.items.indexOf(child as never));
    }
  }
  return path;
}

// Some V8 messages ("Unexpected token ']', …") carry no position. Prefixes of
// the text before the bad character fail only for ending early, so the
// shortest prefix that fails with the same message ends at that character.
function unexpectedTokenOffset(text: string, message: string): number | undefined {
  const head = /^Unexpected token '[\s\S]*?'/.exec(message)?.[0];
  if (!head) return undefined;
  const failsSame = (n: number) => {
    try {
      JSON.parse(text.slice(0, n));
      return false;
    } catch (err) {
      return (err as Error).message.startsWith(head);
    }
  };
  let lo = 1;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (failsSame(mid)) hi = mid;
    else lo = mid + 1;
  }
  return failsSame(lo) ? lo - 1 : undefined;
}

function position(root: Node | null, lineCounter: LineCounter, path: readonly (string | number)[]) {
  const offset = offsetOf(root, path);
  if (offset === undefined) return undefined;
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

function linePos(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The offset of the deepest node on `path`; a key's own position for map entries. */
function offsetOf(root: Node | null, path: readonly (string | number)[]): number | undefined {
  let node: unknown = root;
  let best: number | undefined = (root as { range?: number[] } | null)?.range?.[0];
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const keyRange = (pair.key as Node).range;
      if (keyRange) best = keyRange[0];
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (item === undefined) break;
      node = isPair(item) ? item.value : item;
      const r = (node as { range?: number[] } | null)?.range;
      if (r) best = r[0];
    } else {
      break;
    }
  }
  return best;
}

function nodeDepth(node: unknown, depth: number): number {
  if (depth > MAX_DEPTH) return depth;
  if (isMap(node) || isSeq(node)) {
    let max = depth + 1;
    for (const item of node.items) {
      const child = isPair(item) ? item.value : item;
      max = Math.max(max, nodeDepth(child, depth + 1));
      if (max > MAX_DEPTH) break;
    }
    return max;
  }
  return depth;
}

// Counted on the YAML lexer's tokens (iterative, and JSON is YAML here), so
// brackets inside strings, scripts and comments do not count.
function maxFlowDepth(text: string): number {
  let opening = 0;
  for (let i = 0; i < text.length && opening <= MAX_DEPTH; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) opening++;
  }
  if (opening <= MAX_DEPTH) return opening; // too few brackets to nest too deep: skip lexing
  let depth = 0;
  let max = 0;
  for (const token of new Lexer().lex(text)) {
    if (token === '[' || token === '{') {
      depth++;
      if (depth > max) max = depth;
      if (max > MAX_DEPTH) break;
    } else if ((token === ']' || token === '}') && depth > 0) {
      depth--;
    }
  }
  return max;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}
