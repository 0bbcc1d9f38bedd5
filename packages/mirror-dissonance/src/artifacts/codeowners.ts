/**
 * CODEOWNERS parsed with GitHub's semantics, so "who owns this path" here is
 * the answer GitHub gives when it requests reviews.
 *
 * Syntax: one rule per line, `pattern owner...`; `#` at the start of a line
 * or of a token starts a comment; owners are `@user`, `@org/team` or an
 * e-mail address. Patterns are gitignore-like: a leading `/` anchors to the
 * root, a pattern with an inner `/` is anchored too, a single-segment pattern
 * matches at any depth, a trailing `/` matches the directory's contents, `*`
 * and `?` stay within a segment, `**` crosses segments, and a pattern also
 * matches everything below a directory it matches — except a final lone `*`
 * segment (`docs/*`), which GitHub limits to the directory's direct children.
 *
 * Lines GitHub rejects go to `errors` and are skipped (they neither own nor
 * un-own anything), as GitHub does: `!` negation, `[ ]` character ranges, a
 * `\#` escape at the start of a line (GitHub documents it as unsupported),
 * and owners of an invalid form.
 */
import { InputError } from '../errors';
import { readRepoFile } from './read-file';

export interface CodeownersRule {
  /** The pattern as written (escapes kept). */
  pattern: string;
  /** Owners in declaration order; empty when the rule un-owns its paths. */
  owners: string[];
  /** 1-based line in the CODEOWNERS file. */
  line: number;
}

export interface CodeownersError {
  line: number;
  message: string;
}

export interface CodeownersMatch {
  owners: string[];
  line: number;
  pattern: string;
}

/** GitHub's lookup order: the first of these that exists is the CODEOWNERS file in force. */
export const CODEOWNERS_LOCATIONS: readonly string[] = ['.github/CODEOWNERS', 'CODEOWNERS', 'docs/CODEOWNERS'];

/** GitHub does not load a CODEOWNERS file of 3 MB or more. */
const GITHUB_CODEOWNERS_MAX_BYTES = 3 * 1024 * 1024;

const USER_OWNER = /^@[A-Za-z0-9_-]+$/;
const TEAM_OWNER = /^@[A-Za-z0-9_-]+\/[A-Za-z0-9_.-]+$/;
const EMAIL_OWNER = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/;

export class CodeownersFile {
  readonly path: string;
  readonly rules: readonly CodeownersRule[];
  readonly errors: readonly CodeownersError[];
  /** Compiled once, parallel to `rules`. */
  private readonly matchers: readonly RegExp[];
  /** Rule indices by literal path prefix, so a lookup tests only rules that can match. */
  private readonly index: PrefixNode;

  /**
   * Parses the text of a CODEOWNERS file. Never throws on content: invalid
   * lines are recorded in `errors` with their line number.
   */
  constructor(path: string, text: string) {
    this.path = path;
    const rules: CodeownersRule[] = [];
    const errors: CodeownersError[] = [];
    const matchers: RegExp[] = [];
    const lines = text.split(/\r?\n/);
    for (let index = 0; index < lines.length; index++) {
      const line = index + 1;
      const parsed = parseLine(lines[index]);
      if (parsed === undefined) continue;
      if ('error' in parsed) {
        errors.push({ line, message: parsed.error });
        continue;
      }
      rules.push({ pattern: parsed.pattern, owners: parsed.owners, line });
      matchers.push(compilePattern(parsed.pattern));
    }
    this.rules = rules;
    this.errors = errors;
    this.matchers = matchers;
    this.index = buildIndex(rules);
  }

  /**
   * The rule deciding who owns `filePath` (repository-relative POSIX): the
   * last matching rule, as on GitHub.
   *
   * Returns `undefined` when no rule matches. When the deciding rule has no
   * owners (a pattern written without owners to un-own paths), the match is
   * returned with `owners: []` so callers can point at the line that
   * un-owned the path; both cases mean "no owner".
   */
  ownersOf(filePath: string): CodeownersMatch | undefined {
    const path = filePath.startsWith('/') ? filePath.slice(1) : filePath;
    // Candidate lists along the path's prefix, each ascending; scan them merged, highest index first.
    const lists: number[][] = [this.index.rules];
    let node: PrefixNode | undefined = this.index;
    for (const segment of path.split('/')) {
      node = node.children.get(segment);
      if (node === undefined) break;
      if (node.rules.length > 0) lists.push(node.rules);
    }
    const cursors = lists.map((list) => list.length - 1);
    for (;;) {
      let best = -1;
      let bestList = -1;
      for (let list = 0; list < lists.length; list++) {
        const cursor = cursors[list];
        if (cursor >= 0 && lists[list][cursor] > best) {
          best = lists[list][cursor];
          bestList = list;
        }
      }
      if (bestList < 0) return undefined;
      cursors[bestList]--;
      if (this.matchers[best].test(path)) {
        const rule = this.rules[best];
        return { owners: [...rule.owners], line: rule.line, pattern: rule.pattern };
      }
    }
  }
}

/**
 * Finds and parses the CODEOWNERS file GitHub would use, checking
 * `.github/CODEOWNERS`, `CODEOWNERS`, then `docs/CODEOWNERS` among `files`
 * (the walked, non-ignored file list, so a git-ignored CODEOWNERS does not
 * count). Returns `undefined` when none exists.
 *
 * @throws InputError `FILE_UNREADABLE` when the file in force exists but
 *   cannot be read as text (too large for GitHub, binary, unreadable, or a
 *   symlink out of the root): deciding ownership without it would be wrong.
 */
export function findCodeowners(root: string, files: readonly string[]): CodeownersFile | undefined {
  const path = CODEOWNERS_LOCATIONS.find((candidate) => files.includes(candidate));
  if (path === undefined) return undefined;
  const result = readRepoFile(root, path, { maxBytes: GITHUB_CODEOWNERS_MAX_BYTES - 1 });
  if ('skipped' in result) {
    const { reason, detail } = result.skipped;
    throw new InputError('FILE_UNREADABLE', `cannot use ${path} (${reason}: ${detail}); GitHub would not apply it either`, {
      location: { file: path },
      context: { reason },
    });
  }
  return new CodeownersFile(path, result.file.text);
}

interface PrefixNode {
  /** Indices (ascending) of the rules whose literal prefix ends here. */
  rules: number[];
  children: Map<string, PrefixNode>;
}

function buildIndex(rules: readonly CodeownersRule[]): PrefixNode {
  const root: PrefixNode = { rules: [], children: new Map() };
  rules.forEach((rule, index) => {
    let node = root;
    for (const segment of literalPrefix(rule.pattern)) {
      let child = node.children.get(segment);
      if (child === undefined) {
        child = { rules: [], children: new Map() };
        node.children.set(segment, child);
      }
      node = child;
    }
    node.rules.push(index);
  });
  return root;
}

type ParsedLine = { pattern: string; owners: string[] } | { error: string };

function parseLine(raw: string): ParsedLine | undefined {
  const tokens = tokenize(raw);
  if (tokens.length === 0) return undefined;
  const [pattern, ...owners] = tokens;
  if (pattern.startsWith('\\#')) {
    return { error: `escaping a leading "#" is not supported in CODEOWNERS (pattern ${pattern})` };
  }
  if (pattern.startsWith('!')) {
    return { error: `negation with "!" is not supported in CODEOWNERS (pattern ${pattern})` };
  }
  if (hasUnescaped(pattern, '[') || hasUnescaped(pattern, ']')) {
    return { error: `character ranges with "[ ]" are not supported in CODEOWNERS (pattern ${pattern})` };
  }
  if (pattern.includes('***')) {
    return { error: `three consecutive "*" are not a valid pattern (pattern ${pattern})` };
  }
  if (/^\/+$/.test(pattern)) {
    return { error: `pattern ${pattern} matches no file` };
  }
  const invalid = owners.filter((owner) => !USER_OWNER.test(owner) && !TEAM_OWNER.test(owner) && !EMAIL_OWNER.test(owner));
  if (invalid.length > 0) {
    return { error: `invalid owner ${invalid.map((owner) => `"${owner}"`).join(', ')}: expected @user, @org/team or an e-mail address` };
  }
  return { pattern, owners };
}

/**
 * Splits a line on unescaped whitespace, dropping a comment: an unescaped
 * `#` that starts a token ends the line. Backslashes are kept in the token
 * (the pattern compiler interprets them).
 */
function tokenize(raw: string): string[] {
  const tokens: string[] = [];
  let current = '';
  for (let index = 0; index < raw.length; index++) {
    const char = raw[index];
    if (char === '\\' && index + 1 < raw.length) {
      current += char + raw[index + 1];
      index++;
    } else if (char === ' ' || char === '\t') {
      if (current !== '') tokens.push(current);
      current = '';
    } else if (char === '#' && current === '') {
      break;
    } else {
      current += char;
    }
  }
  if (current !== '') tokens.push(current);
  return tokens;
}

function hasUnescaped(pattern: string, target: string): boolean {
  for (let index = 0; index < pattern.length; index++) {
    if (pattern[index] === '\\') index++;
    else if (pattern[index] === target) return true;
  }
  return false;
}

/**
 * The segments of a pattern with GitHub's anchoring made explicit: a leading
 * `**` for single-segment (unanchored) patterns, a trailing `**` for a
 * trailing slash, no leading empty segment.
 */
function normalizedSegments(pattern: string): string[] {
  let segments = pattern.split('/');
  if (segments[0] === '') {
    segments = segments.slice(1);
  } else if (segments.length === 1 || (segments.length === 2 && segments[1] === '')) {
    // A single segment matches at any depth, like a leading `**/`.
    if (segments[0] !== '**') segments = ['**', ...segments];
  }
  if (segments.length > 1 && segments[segments.length - 1] === '') {
    // A trailing slash means "everything inside".
    segments[segments.length - 1] = '**';
  }
  return segments;
}

/**
 * The leading segments every matching path must start with, exactly: the
 * literal segments of an anchored pattern up to the first wildcard or
 * escape. Empty for unanchored patterns.
 */
function literalPrefix(pattern: string): string[] {
  const prefix: string[] = [];
  for (const segment of normalizedSegments(pattern)) {
    if (segment === '' || /[*?\\]/.test(segment)) break;
    prefix.push(segment);
  }
  return prefix;
}

/** Compiles a CODEOWNERS pattern to a regular expression over a whole relative path. */
export function compilePattern(pattern: string): RegExp {
  const segments = normalizedSegments(pattern);
  const last = segments.length - 1;
  let source = '';
  let needSlash = false;
  segments.forEach((segment, index) => {
    if (segment === '**') {
      if (index === 0 && index === last) {
        source += '.+';
      } else if (index === 0) {
        source += '(?:.+/)?';
        needSlash = false;
      } else if (index === last) {
        source += '/.*';
      } else {
        source += '(?:/.+)?';
        needSlash = true;
      }
      return;
    }
    if (needSlash) source += '/';
    needSlash = true;
    if (segment === '*') {
      // A lone `*` is one whole segment; as the last segment it does not reach into subdirectories.
      source += '[^/]+';
      return;
    }
    source += segmentSource(segment);
    if (index === last) source += '(?:/.*)?';
  });
  return new RegExp(`^${source}$`, 's');
}

function segmentSource(segment: string): string {
  let out = '';
  for (let index = 0; index < segment.length; index++) {
    const char = segment[index];
    if (char === '\\' && index + 1 < segment.length) {
      out += escapeRegExp(segment[index + 1]);
      index++;
    } else if (char === '*') {
      out += '[^/]*';
    } else if (char === '?') {
      out += '[^/]';
    } else {
      out += escapeRegExp(char);
    }
  }
  return out;
}

function escapeRegExp(char: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(char) ? `\\${char}` : char;
}
