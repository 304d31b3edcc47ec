// zod's issues in the words users need: one per problem, with the path of the
// field, "is required" for missing fields, and the matching branch of a union.
import type { z } from 'zod';
import type { RawIssue } from './check.ts';

export function zodIssues(error: z.ZodError, root: unknown): RawIssue[] {
  return error.issues.flatMap((i) => fromZod(i, [], root));
}

type ZodIssue = z.core.$ZodIssue;

function fromZod(issue: ZodIssue, prefix: (string | number)[], root: unknown): RawIssue[] {
  const path = [...prefix, ...(issue.path as (string | number)[])];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key ${key}` }));
  }
  if (issue.code === 'invalid_union') {
    // Report the branch whose type matched (an object for an object branch),
    // rather than zod's generic "Invalid input".
    const branches = issue.errors.filter(
      (b) => !b.some((i) => i.code === 'invalid_type' && i.path.length === 0),
    );
    const best = branches.sort((a, b) => a.length - b.length)[0];
    if (best) return best.flatMap((i) => fromZod(i, path, root));
    const expected = issue.errors.flatMap((b) =>
      b.map((i) => (i.code === 'invalid_type' ? i.expected : null)),
    );
    const names = [...new Set(expected.filter(Boolean))];
    return [{ path, message: `expected ${names.length ? names.join(' or ') : 'another form'}` }];
  }
  if (path.length === 0 && (root === null || root === undefined)) {
    return [{ path, message: 'the plan is empty' }];
  }
  // A missing field fails as the wrong type (or, for `version: 1`, the wrong
  // value); say it is missing instead.
  if (
    (issue.code === 'invalid_type' || issue.code === 'invalid_value') &&
    valueAt(root, path) === undefined
  ) {
    return [{ path, message: `${String(path.at(-1) ?? 'value')} is required` }];
  }
  return [{ path, message: issue.message }];
}

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let v = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[seg];
  }
  return v;
}
