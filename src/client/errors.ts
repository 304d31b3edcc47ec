// The client's error, in a module of its own so that code which only reports
// errors need not load the HTTP client.
import type { ApiIssue } from './types.ts';

export class AgentError extends Error {
  readonly status: number;
  readonly code: string;
  readonly issues: ApiIssue[];
  constructor(status: number, code: string, message: string, issues: ApiIssue[] = []) {
    super(message);
    this.status = status;
    this.code = code;
    this.issues = issues;
  }
}
