/**
 * The error hierarchy of Rampart. Each error carries the data a caller needs to report it
 * without parsing the message (the path of a bad policy field, the file and position of a bad
 * event).
 */
export class RampartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** One problem in a policy file: where it is (`controls.apigateway-throttling.rateLimit`) and what was expected. */
export interface PolicyIssue {
  path: string;
  message: string;
}

/**
 * A policy file that cannot be used. `issues` lists every bad field, so a user fixes them all
 * in one go.
 *
 * @example
 * try { loadPolicyFile('rampart.config.yaml') } catch (e) { if (e instanceof PolicyError) console.error(e.message) }
 */
export class PolicyError extends RampartError {
  readonly source: string;
  readonly issues: PolicyIssue[];
  constructor(source: string, issues: PolicyIssue[], options?: { cause?: unknown }) {
    const lines = issues.map((i) => `  - ${i.path || '(top level)'}: ${i.message}`);
    super(`invalid policy ${source}:\n${lines.join('\n')}`, options);
    this.source = source;
    this.issues = issues;
  }
}

/** An event that is not valid JSON, or not an EventBridge event / CloudTrail record of a known shape. */
export class MalformedEventError extends RampartError {
  /** The JSON path of the offending field inside the event, when known (`detail.eventName`). */
  readonly field?: string;
  constructor(message: string, options?: { cause?: unknown; field?: string }) {
    super(message, options);
    this.field = options?.field;
  }
}

/** The message of anything thrown, for logs and CLI output (never a stack trace). */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
