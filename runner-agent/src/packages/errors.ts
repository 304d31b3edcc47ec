// A package that cannot be acquired, stored or installed. `code` names the
// rule that refused it, so callers map it to an HTTP status or an action
// message without parsing text; `transient` marks what a retry may fix.
export type PackageErrorCode =
  | 'forbidden_host'
  | 'forbidden_address'
  | 'bad_url'
  | 'too_many_redirects'
  | 'http_status'
  | 'network'
  | 'stalled'
  | 'too_large'
  | 'hash_mismatch'
  | 'not_uploaded'
  | 'bad_archive'
  | 'unsafe_entry'
  | 'limit'
  | 'cancelled';

export class PackageError extends Error {
  readonly code: PackageErrorCode;
  readonly transient: boolean;
  constructor(code: PackageErrorCode, message: string, transient = false) {
    super(message);
    this.code = code;
    this.transient = transient;
  }
}
