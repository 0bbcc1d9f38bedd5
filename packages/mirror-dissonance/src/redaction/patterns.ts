/**
 * Secret patterns for evidence redaction (DESIGN §3, §8).
 *
 * Every pattern is compiled once at module load and written so that the work
 * per match attempt is bounded: character classes are disjoint from the
 * literal that follows them, and quantifiers that can fail after scanning are
 * capped. Private key blocks are not matched with a single `BEGIN…END`
 * expression (that is quadratic on many unterminated BEGIN lines); they are
 * scanned procedurally, see `redactPrivateKeys`.
 *
 * Deliberately NOT matched: 40-hex commit SHAs, `sha512-…`/`sha1-…` lockfile
 * integrity hashes and `${{ secrets.X }}` expressions (references, not
 * secrets). A value in a credential assignment (`token: <value>`) is redacted
 * whatever it looks like, because the key name is the evidence that it is a
 * secret; values that start with `$` are variable references and are kept.
 */

export type RedactionKind =
  | 'private_key'
  | 'aws_access_key_id'
  | 'aws_secret_access_key'
  | 'github_token'
  | 'jwt'
  | 'slack_token'
  | 'slack_webhook'
  | 'credential';

/**
 * A regular-expression pattern. When `keepGroup` is set, the text of that
 * capture group (the key name and separator) is kept and only the rest of the
 * match is replaced.
 */
export interface RedactionPattern {
  kind: RedactionKind;
  regex: RegExp;
  keepGroup?: number;
}

/** Marker written in place of a secret. */
export function redactionMarker(kind: RedactionKind): string {
  return `[REDACTED:${kind}]`;
}

/** Values already replaced, or variable references (`$X`, `${X}`, `${{ … }}`), are never redacted again. */
const NOT_A_SECRET_VALUE = String.raw`(?!\$|\[REDACTED:)`;

/** Key name followed by `=` or `:` with optional quotes around the key (JSON, YAML, env files). */
const ASSIGNMENT = String.raw`["']?[ \t]{0,8}[:=][ \t]{0,8}`;

/**
 * Matched in this order: specific token formats first, so that e.g.
 * `token=ghp_…` is reported as `github_token`, then the generic credential
 * assignment, which skips values already redacted.
 */
export const REDACTION_PATTERNS: readonly RedactionPattern[] = Object.freeze([
  {
    kind: 'aws_access_key_id',
    regex: /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g,
  },
  {
    kind: 'aws_secret_access_key',
    regex: new RegExp(
      String.raw`((?:(?:aws[_-]?)?secret[_-]?access[_-]?key|aws[_-]?secret[_-]?key)` +
        ASSIGNMENT +
        String.raw`["']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])`,
      'gi',
    ),
    keepGroup: 1,
  },
  {
    kind: 'github_token',
    regex: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g,
  },
  {
    kind: 'jwt',
    regex: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g,
  },
  {
    kind: 'slack_webhook',
    regex: /https:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{10,}/g,
  },
  {
    kind: 'slack_token',
    regex: /(?<![A-Za-z0-9_-])xox[abposr]-[A-Za-z0-9-]{10,}/g,
  },
  {
    kind: 'credential',
    regex: new RegExp(
      String.raw`((?:password|passwd|secret|token|api[_-]?key|access[_-]?key)[A-Za-z0-9_-]{0,32}` +
        ASSIGNMENT +
        String.raw`)(?:"` +
        NOT_A_SECRET_VALUE +
        String.raw`[^"\r\n]{8,1024}"|'` +
        NOT_A_SECRET_VALUE +
        String.raw`[^'\r\n]{8,1024}'|["']?` +
        NOT_A_SECRET_VALUE +
        String.raw`[^\s"'\x60]{8,})`,
      'gi',
    ),
    keepGroup: 1,
  },
] satisfies RedactionPattern[]);

const PRIVATE_KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;
const PRIVATE_KEY_END = /-----END (?:[A-Z0-9]{1,16} ){0,4}PRIVATE KEY(?: BLOCK)?-----/g;

/**
 * Replaces every private key block, BEGIN through END, with one marker. A
 * BEGIN without an END redacts to the end of the text: a truncated key is
 * still a key. Each character is scanned at most twice (once looking for
 * BEGIN, once for END), so this is linear.
 */
export function redactPrivateKeys(text: string): { value: string; redactions: number } {
  if (!text.includes('PRIVATE KEY')) return { value: text, redactions: 0 };
  const marker = redactionMarker('private_key');
  let out = '';
  let cursor = 0;
  let redactions = 0;
  PRIVATE_KEY_BEGIN.lastIndex = 0;
  for (;;) {
    const begin = PRIVATE_KEY_BEGIN.exec(text);
    if (begin === null) break;
    out += text.slice(cursor, begin.index) + marker;
    redactions += 1;
    PRIVATE_KEY_END.lastIndex = begin.index + begin[0].length;
    const end = PRIVATE_KEY_END.exec(text);
    if (end === null) {
      cursor = text.length;
      break;
    }
    cursor = end.index + end[0].length;
    PRIVATE_KEY_BEGIN.lastIndex = cursor;
  }
  PRIVATE_KEY_BEGIN.lastIndex = 0;
  PRIVATE_KEY_END.lastIndex = 0;
  return { value: out + text.slice(cursor), redactions };
}
