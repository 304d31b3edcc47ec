// `#{name}` interpolation. `${…}` is left alone on purpose: it belongs to
// shells and GitHub expressions. `##{` escapes a literal `#{`, as in Octopus.
// An unterminated `#{` is literal text, so shell code like `echo "#{"` is safe.

export interface TemplateRef {
  name: string;
  offset: number;
}

type Part = string | TemplateRef;

const REF = /##\{|#\{([^{}\n]*)\}/g;

export function parseTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  for (const m of text.matchAll(REF)) {
    const before = text.slice(last, m.index);
    if (m[0] === '##{') {
      parts.push(`${before}#{`);
    } else {
      if (before) parts.push(before);
      parts.push({ name: (m[1] ?? '').trim(), offset: m.index });
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

export function templateRefs(text: string): TemplateRef[] {
  return parseTemplate(text).filter((p): p is TemplateRef => typeof p !== 'string');
}

/** What a template may see; a missing member means "not available here". */
export interface InterpolationScope {
  project: string;
  environment: string;
  release: string;
  tenant?: { name: string; tags: Record<string, string> };
  target?: { name: string; host: string };
  variables: Record<string, string>;
}

/** Resolves one name, or returns why it cannot be resolved in this scope. */
export function resolveName(name: string, scope: InterpolationScope): { value: string } | { error: string } {
  switch (name) {
    case 'project':
      return { value: scope.project };
    case 'environment':
      return { value: scope.environment };
    case 'release':
      return { value: scope.release };
    case 'tenant':
      return scope.tenant
        ? { value: scope.tenant.name }
        : { error: 'no tenant here (the plan is untenanted)' };
    case 'target':
      return scope.target
        ? { value: scope.target.name }
        : { error: 'no target here (only steps on targets have one)' };
    case 'target.host':
      return scope.target
        ? { value: scope.target.host }
        : { error: 'no target here (only steps on targets have one)' };
  }
  if (name.startsWith('tenant.tags.')) {
    const tag = name.slice('tenant.tags.'.length);
    if (!scope.tenant) return { error: 'no tenant here (the plan is untenanted)' };
    const value = scope.tenant.tags[tag];
    return value === undefined ? { error: `tenant ${scope.tenant.name} has no tag ${tag}` } : { value };
  }
  if (name.startsWith('var.')) {
    const v = name.slice('var.'.length);
    const value = scope.variables[v];
    return value === undefined ? { error: `variable ${v} is not defined` } : { value };
  }
  return {
    error:
      'unknown name; use tenant, tenant.tags.X, project, environment, release, target, target.host or var.NAME',
  };
}

export class InterpolationError extends Error {}

export function interpolate(text: string, scope: InterpolationScope): string {
  // Most scripts have no reference, and every action's script comes here.
  if (!text.includes('#{')) return text;
  let out = '';
  for (const part of parseTemplate(text)) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const r = resolveName(part.name, scope);
    if ('error' in r) throw new InterpolationError(`#{${part.name}}: ${r.error}`);
    out += r.value;
  }
  return out;
}
