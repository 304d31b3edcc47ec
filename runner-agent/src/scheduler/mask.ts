// Secret masking for every line that leaves an action: logs, events, API.
// Longest values first, so a secret that contains another is masked whole.
export type Mask = (text: string) => string;

export function makeMask(secrets: readonly string[]): Mask {
  const values = [...new Set(secrets.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (t) => t;
  const re = new RegExp(values.map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (t) => t.replace(re, '***');
}
