/**
 * One neutraliser per channel for text Rampart did not write: resource names, actor ARNs, user
 * names, reasons and error messages all come from events or from AWS, and AWS allows control
 * characters, `<`, `&` and URLs in many of them (S3 object keys, stage variables, IAM session
 * names, CloudTrail `errorMessage`). Every renderer passes such text through the function of its
 * channel; nothing else escapes.
 */

// C0 (but tab and newline), DEL, C1 (incl. the 8-bit CSI \x9b), line/paragraph separators and
// the bidirectional overrides that make a terminal or a mail client show text in another order
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const CONTROLS_AND_BREAKS = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `\u001b`: visible, and still a valid escape inside a JSON string. */
const visible = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * One line of a plain-text body (email, SNS `default`): no CR/LF, so event text can neither
 * start a line of its own (a forged "Approve:" line) nor end the one it is on.
 *
 * @example forTextLine('bucket\r\nApprove: https://evil') // 'bucket\\u000d\\u000aApprove: https://evil'
 */
export function forTextLine(text: string): string {
  return text.replace(CONTROLS_AND_BREAKS, visible);
}

/** SNS subjects: at most 100 printable ASCII characters, no line breaks (the Publish API refuses others). */
export function forSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length <= 100 ? ascii : `${ascii.slice(0, 97)}...`;
}

/**
 * Terminal output: escape sequences (ESC, CSI) and other controls become visible `\u001b`, so
 * a resource name cannot move the cursor, recolour, retitle or hide lines. Newlines and tabs
 * Rampart writes itself are kept; call this on whole lines of output.
 */
export function forTerminal(text: string): string {
  return text.replace(CONTROLS, visible);
}

/** HTML text and attribute values (the approval page). */
export function forHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Slack mrkdwn: `&`, `<` and `>` escaped as Slack asks (so `<!channel>`, `<@U123>` and
 * `<https://x|label>` stay text), `@here`-style words and URLs broken with a zero-width space so
 * they neither ping nor autolink where Slack parses loosely (message `text`, notifications),
 * and no line breaks from the event. Text objects also carry `verbatim: true`.
 */
export function forSlack(text: string): string {
  return breakMentions(escapeSlackControls(forTextLine(text))).replace(/\.(?=[a-z])/gi, '.\u200b');
}

/**
 * Inside a Slack code span, which Slack neither autolinks nor scans for names: the span's own
 * delimiter, Slack's control characters and the loudest mentions; dots stay, so a bucket or
 * host name copies cleanly.
 */
export function forSlackCode(text: string): string {
  return `\`${breakMentions(escapeSlackControls(forTextLine(text))).replace(/`/g, "'")}\``;
}

const escapeSlackControls = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const breakMentions = (text: string) => text.replace(/@(?=(here|channel|everyone)\b)/gi, '@\u200b').replace(/:\/\//g, ':\u200b//');
