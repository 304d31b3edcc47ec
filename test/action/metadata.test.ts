// action.yml and the example workflows are valid for GitHub (checked with
// action-validator's schemas), and action.yml declares what the design lists.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateAction, validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO } from '../helpers/util.ts';

const read = (p: string) => readFileSync(join(REPO, p), 'utf8');

describe('action metadata and example workflows', () => {
  it('action.yml is a valid node24 action with the design inputs and outputs', () => {
    // action-validator 0.6's schema predates node24 (GitHub added it in 2025): validate the rest of the
    // file under node20, and check `using` below.
    const text = read('action.yml');
    expect(text).toMatch(/^ {2}using: node24$/m);
    expect(validateAction(text.replace(/^( {2}using: )node24$/m, '$1node20')).errors).toEqual([]);
    const action = parse(read('action.yml'));
    expect(action.runs).toMatchObject({
      using: 'node24',
      main: 'dist/index.js',
      post: 'dist/post/index.js',
      'post-if': 'cancelled()',
    });
    expect(Object.keys(action.outputs).sort()).toEqual(
      ['check-run-id', 'deployment-id', 'status', 'tasks-failed', 'tasks-succeeded', 'url'].sort(),
    );
    for (const input of [
      'agent-url',
      'command',
      'plan',
      'auth',
      'audience',
      'node',
      'task-cap',
      'wait-for-drain',
    ])
      expect(action.inputs).toHaveProperty(input);
  });

  for (const file of ['examples/workflows/deploy.yml', 'examples/workflows/drain.yml']) {
    it(`${file} is a valid workflow`, () => {
      expect(validateWorkflow(read(file)).errors).toEqual([]);
    });
  }

  it('the validator does refuse a broken workflow', () => {
    const broken = read('examples/workflows/drain.yml').replace(
      'runs-on: ubuntu-latest',
      'runs_on: ubuntu-latest',
    );
    expect(validateWorkflow(broken).errors.length).toBeGreaterThan(0);
  });
});
