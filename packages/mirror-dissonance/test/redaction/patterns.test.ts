import { redactText } from '../../src/redaction/redactor';
import { REDACTION_PATTERNS, redactPrivateKeys, redactionMarker } from '../../src/redaction/patterns';

// Secret-looking fixtures are assembled at run time so that the test source
// itself does not trip secret scanners.
const AWS_KEY_ID = 'AKIA' + 'IOSFODNN7EXAMPLE';
const AWS_SESSION_KEY_ID = 'ASIA' + 'Y34FZKBOKMUTVV7A';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/' + 'bPxRfiCYEXAMPLEKEY';
const GH_CLASSIC = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const GH_FINE = 'github_pat_' + '11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV';
const JWT =
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9' + '.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ' + '.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
const SLACK_TOKEN = 'xox' + 'b-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx';
const SLACK_HOOK = 'https://hooks.slack.com/' + 'services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const PRIVATE_KEY = [
  '-----BEGIN RSA PRIVATE KEY-----',
  'MIIEpAIBAAKCAQEA7bq9mQ2Qy0',
  'q2Qy0MIIEpAIBAAKCAQEA7bq9m',
  '-----END RSA PRIVATE KEY-----',
].join('\n');

describe('redactText', () => {
  describe('redacts each kind of secret', () => {
    it.each([
      ['an AWS access key id', `aws_access_key_id = ${AWS_KEY_ID}`, 'aws_access_key_id = [REDACTED:aws_access_key_id]'],
      ['an AWS session key id', `id ${AWS_SESSION_KEY_ID} used`, 'id [REDACTED:aws_access_key_id] used'],
      ['an AWS secret key in an ini assignment', `aws_secret_access_key=${AWS_SECRET}`, 'aws_secret_access_key=[REDACTED:aws_secret_access_key]'],
      ['an AWS secret key in an env assignment', `AWS_SECRET_ACCESS_KEY: ${AWS_SECRET}`, 'AWS_SECRET_ACCESS_KEY: [REDACTED:aws_secret_access_key]'],
      ['an AWS secret key after a JSON key name', `"SecretAccessKey": "${AWS_SECRET}"`, '"SecretAccessKey": "[REDACTED:aws_secret_access_key]"'],
      ['a classic GitHub token', `token: ${GH_CLASSIC}`, 'token: [REDACTED:github_token]'],
      ['a GitHub OAuth token', `auth gho_${'x'.repeat(36)} end`, 'auth [REDACTED:github_token] end'],
      ['a GitHub app user token', `ghu_${'Y'.repeat(40)}`, '[REDACTED:github_token]'],
      ['a GitHub app server token', `ghs_${'7'.repeat(36)}`, '[REDACTED:github_token]'],
      ['a GitHub refresh token', `ghr_${'z'.repeat(36)}`, '[REDACTED:github_token]'],
      ['a fine-grained GitHub token', `pat ${GH_FINE} used`, 'pat [REDACTED:github_token] used'],
      ['a JWT', `Authorization: Bearer ${JWT}`, 'Authorization: Bearer [REDACTED:jwt]'],
      ['a Slack token', `SLACK=${SLACK_TOKEN}`, 'SLACK=[REDACTED:slack_token]'],
      ['a Slack user token', `t ${'xox' + 'p-9876543210-abcdefghij'}`, 't [REDACTED:slack_token]'],
      ['a Slack webhook', `url: ${SLACK_HOOK}`, 'url: [REDACTED:slack_webhook]'],
      ['a password assignment', 'password: hunter2hunter2', 'password: [REDACTED:credential]'],
      ['a prefixed env password', 'DB_PASSWORD=s3cr3t!!', 'DB_PASSWORD=[REDACTED:credential]'],
      ['a passwd assignment', 'passwd = abcdefgh', 'passwd = [REDACTED:credential]'],
      ['a quoted password with spaces', 'password: "correct horse battery"', 'password: [REDACTED:credential]'],
      ['a single-quoted secret', "client_secret: 'abcd efgh ijkl'", 'client_secret: [REDACTED:credential]'],
      ['a JSON api key', '{"api_key": "0123456789abcdef"}', '{"api_key": [REDACTED:credential]}'],
      ['an apikey assignment', 'APIKEY=zzzzzzzzzz', 'APIKEY=[REDACTED:credential]'],
      ['an access key assignment', 'accessKey: abcdefgh12', 'accessKey: [REDACTED:credential]'],
      ['a token assignment', 'NPM_TOKEN=npm_abcdefghijklmnop', 'NPM_TOKEN=[REDACTED:credential]'],
      ['a 41-character value after an AWS key name as a credential', `aws_secret_access_key=${AWS_SECRET}A`, 'aws_secret_access_key=[REDACTED:credential]'],
    ])('redacts %s', (_label, input, expected) => {
      // Act
      const result = redactText(input);

      // Assess
      expect(result.value).toBe(expected);
      expect(result.redactions).toBe(1);
    });

    it('redacts a multi-line private key block as one secret and keeps the text around it', () => {
      // Prepare
      const input = `key: |\n${PRIVATE_KEY}\nnext: value`;

      // Act
      const result = redactText(input);

      // Assess
      expect(result.value).toBe('key: |\n[REDACTED:private_key]\nnext: value');
      expect(result.redactions).toBe(1);
    });

    it.each([
      ['OPENSSH', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----'],
      ['PKCS#8', '-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----'],
      ['encrypted', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFH\n-----END ENCRYPTED PRIVATE KEY-----'],
      ['PGP', '-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOY\n-----END PGP PRIVATE KEY BLOCK-----'],
    ])('redacts a %s private key block', (_label, block) => {
      // Act
      const result = redactText(`a\n${block}\nb`);

      // Assess
      expect(result.value).toBe('a\n[REDACTED:private_key]\nb');
    });

    it('redacts an unterminated private key through the end of the text', () => {
      // Act
      const result = redactText('x\n-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\nnot ended');

      // Assess
      expect(result.value).toBe('x\n[REDACTED:private_key]');
      expect(result.redactions).toBe(1);
    });

    it('redacts two private key blocks separately and keeps the text between them', () => {
      // Act
      const result = redactText(`${PRIVATE_KEY}\nmiddle\n${PRIVATE_KEY}`);

      // Assess
      expect(result.value).toBe('[REDACTED:private_key]\nmiddle\n[REDACTED:private_key]');
      expect(result.redactions).toBe(2);
    });

    it('counts every secret in a text with several kinds', () => {
      // Prepare
      const input = [`id=${AWS_KEY_ID}`, `gh=${GH_CLASSIC}`, `password: longenough1`, `hook ${SLACK_HOOK}`].join('\n');

      // Act
      const result = redactText(input);

      // Assess
      expect(result.redactions).toBe(4);
      expect(result.value).toBe(
        'id=[REDACTED:aws_access_key_id]\ngh=[REDACTED:github_token]\npassword: [REDACTED:credential]\nhook [REDACTED:slack_webhook]',
      );
    });

    it('reports a specific token as its own kind, not as a credential assignment, and does not redact it twice', () => {
      // Act
      const result = redactText(`GITHUB_TOKEN=${GH_CLASSIC}`);

      // Assess
      expect(result.value).toBe('GITHUB_TOKEN=[REDACTED:github_token]');
      expect(result.redactions).toBe(1);
    });
  });

  describe('leaves non-secrets alone', () => {
    it.each([
      ['a 40-hex commit SHA', 'uses: actions/checkout@0123456789abcdef0123456789abcdef01234567'],
      ['a bare commit SHA', 'commit 8f14e45fceea167a5a36dedd4bea2543c6e5d9a1 merged'],
      ['a sha512 lockfile integrity', '"integrity": "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==",'],
      ['a sha1 lockfile integrity', 'integrity sha1-2kL4JBCJSmzOz7zr1E8k5B9wrUo='],
      ['a secrets expression', 'token: ${{ secrets.GITHUB_TOKEN }}'],
      ['a quoted secrets expression', 'password: "${{ secrets.DB_PASSWORD }}"'],
      ['a bare secrets expression', 'run: echo ${{ secrets.NPM_TOKEN }}'],
      ['a shell variable reference', 'TOKEN=$GITHUB_TOKEN_VALUE'],
      ['an inherited secrets declaration', 'secrets: inherit'],
      ['a permissions block', 'permissions:\n  id-token: write\n  contents: read'],
      ['ordinary prose about secrets', 'the token is valid and the password is secret'],
      ['a short credential value', 'password: hunter2'],
      ['a word that starts like a key id', 'AKIAB is not a key, nor is ASIA'],
      ['a too-short GitHub token', `ghp_${'a'.repeat(35)}`],
      ['a short value after an AWS secret key name', 'aws_secret_access_key = unset'],
      ['a public key block', '-----BEGIN PUBLIC KEY-----\nMFkwEw\n-----END PUBLIC KEY-----'],
      ['a base64 string starting with eyJ but not a JWT', 'eyJhbGciOiJIUzI1NiJ9 alone'],
      ['a non-Slack hooks URL', 'https://hooks.example.com/services/T000/B000/XXXX'],
      ['an empty string', ''],
    ])('does not redact %s', (_label, input) => {
      // Act
      const result = redactText(input);

      // Assess
      expect(result.value).toBe(input);
      expect(result.redactions).toBe(0);
    });
  });

  describe('runs in linear time', () => {
    const MB = 1 << 20;
    const fill = (unit: string): string => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);

    it.each([
      ['one long word', 'a'.repeat(MB)],
      ['word boundaries everywhere', fill('a-')],
      ['repeated unterminated key headers', fill('-----BEGIN A A A A ')],
      ['repeated BEGIN lines without END', fill('-----BEGIN RSA PRIVATE KEY-----\n')],
      ['a key name followed by whitespace', 'password' + ' '.repeat(MB)],
      ['repeated unclosed quotes', fill('password: "abc ')],
      ['repeated short assignments', fill('token=abc ')],
      ['run-together key names', fill('tokenpasswordsecretapi_key')],
      ['long key suffixes', fill('token_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')],
      ['JWT-like fragments', fill('eyJaa.bb ')],
      ['token prefixes', fill('ghp_xoxb-AKIA')],
      ['AWS secret context with short values', fill('aws_secret_access_key=abc ')],
      ['separators only', fill('secret=:')],
    ])('returns for a 1 MB adversarial line of %s', (_label, input) => {
      // Act
      const result = redactText(input);

      // Assess
      expect(typeof result.value).toBe('string');
      expect(result.redactions).toBeGreaterThanOrEqual(0);
    });
  });
});

describe('redaction patterns', () => {
  it('compiles every pattern once as a global regular expression', () => {
    // Assess
    for (const pattern of REDACTION_PATTERNS) {
      expect(pattern.regex.flags).toContain('g');
    }
    expect(Object.isFrozen(REDACTION_PATTERNS)).toBe(true);
  });

  it('builds the marker from the kind', () => {
    expect(redactionMarker('jwt')).toBe('[REDACTED:jwt]');
  });

  it('returns text without a private key marker unchanged', () => {
    // Act
    const result = redactPrivateKeys('no keys here');

    // Assess
    expect(result).toEqual({ value: 'no keys here', redactions: 0 });
  });

  it('does not treat a PRIVATE KEY mention without a BEGIN line as a block', () => {
    // Act
    const result = redactPrivateKeys('-----END RSA PRIVATE KEY----- and PRIVATE KEY words');

    // Assess
    expect(result.redactions).toBe(0);
  });
});
