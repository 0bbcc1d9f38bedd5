import {
  L0_PASS,
  PERMISSION_SCOPE_BITS,
  UNKNOWN_PERMISSION_BIT,
  WRITE_ALL_MASK,
  checkPermissionBits,
  encodePermissionMask,
  type PermissionSpec,
} from '../../src/l0';

const FILE = '.github/workflows/ci.yml';

function block(scopes: [string, string][], extra: Partial<PermissionSpec> = {}): PermissionSpec {
  return {
    path: FILE,
    line: 3,
    scopes: scopes.map(([name, level], index) => ({ name, level, line: 4 + index })),
    ...extra,
  };
}

describe('encodePermissionMask', () => {
  it('returns an empty mask when there are no permission blocks', () => {
    expect(encodePermissionMask([])).toEqual({ mask: 0, unknownScopes: [] });
  });

  it('sets bits 0-11 for write-all', () => {
    // Act
    const result = encodePermissionMask([block([], { shorthand: 'write-all' })]);

    // Assess
    expect(result.mask).toBe(0x0fff);
    expect(result.mask).toBe(WRITE_ALL_MASK);
    expect(result.unknownScopes).toEqual([]);
    expect(checkPermissionBits(result.mask)).toBe(L0_PASS);
  });

  it.each(['read-all', 'none'] as const)('sets no bits for %s', (shorthand) => {
    expect(encodePermissionMask([block([], { shorthand })])).toEqual({ mask: 0, unknownScopes: [] });
  });

  it.each([
    ['actions', 0],
    ['attestations', 1],
    ['checks', 2],
    ['statuses', 2],
    ['contents', 3],
    ['deployments', 4],
    ['discussions', 5],
    ['id-token', 6],
    ['issues', 7],
    ['packages', 8],
    ['pages', 9],
    ['pull-requests', 10],
    ['repository-projects', 10],
    ['security-events', 11],
  ])('sets bit for %s: write', (name, bit) => {
    // Act
    const result = encodePermissionMask([block([[name, 'write']])]);

    // Assess
    expect(result.mask).toBe(1 << bit);
    expect(PERMISSION_SCOPE_BITS.get(name)).toBe(bit);
  });

  it('sets no bits for read and none levels of known scopes', () => {
    // Act
    const result = encodePermissionMask([block([['contents', 'read'], ['issues', 'none'], ['models', 'read'], ['models', 'none']])]);

    // Assess
    expect(result).toEqual({ mask: 0, unknownScopes: [] });
  });

  it('unions write access across workflow- and job-level blocks', () => {
    // Prepare
    const workflow = block([['contents', 'read']]);
    const jobA = block([['contents', 'write'], ['id-token', 'write']], { line: 20 });
    const jobB = block([['pull-requests', 'write'], ['statuses', 'write'], ['checks', 'write']], { line: 40 });

    // Act
    const result = encodePermissionMask([workflow, jobA, jobB]);

    // Assess
    expect(result.mask).toBe((1 << 3) | (1 << 6) | (1 << 10) | (1 << 2));
    expect(result.unknownScopes).toEqual([]);
  });

  it('sets reserved bit 12 and lists an unknown scope with its location', () => {
    // Act
    const result = encodePermissionMask([block([['contents', 'write'], ['secrets', 'write']], { path: 'w.yml' })]);

    // Assess
    expect(result.mask).toBe((1 << 3) | UNKNOWN_PERMISSION_BIT);
    expect(result.unknownScopes).toEqual([{ name: 'secrets', level: 'write', path: 'w.yml', line: 5 }]);
    expect(checkPermissionBits(result.mask).ok).toBe(false);
  });

  it('treats an unknown scope as unknown even when it only reads', () => {
    expect(encodePermissionMask([block([['metadata', 'read']])]).mask).toBe(UNKNOWN_PERMISSION_BIT);
  });

  it.each(['admin', 'Write', 'READ', ''])('sets reserved bit 12 for the invalid level %p', (level) => {
    // Act
    const result = encodePermissionMask([block([['issues', level]])]);

    // Assess
    expect(result.mask).toBe(UNKNOWN_PERMISSION_BIT);
    expect(result.unknownScopes).toEqual([{ name: 'issues', level, path: FILE, line: 4 }]);
  });

  it('treats write on the read-only models scope as unknown', () => {
    // Act
    const result = encodePermissionMask([block([['models', 'write']])]);

    // Assess
    expect(result.mask).toBe(UNKNOWN_PERMISSION_BIT);
    expect(result.unknownScopes).toEqual([{ name: 'models', level: 'write', path: FILE, line: 4 }]);
  });

  it('treats an unrecognised shorthand as unknown at the block line', () => {
    // Prepare
    const spec = { path: FILE, line: 7, shorthand: 'write', scopes: [] } as unknown as PermissionSpec;

    // Act
    const result = encodePermissionMask([spec]);

    // Assess
    expect(result.mask).toBe(UNKNOWN_PERMISSION_BIT);
    expect(result.unknownScopes).toEqual([{ name: 'permissions', level: 'write', path: FILE, line: 7 }]);
  });

  it('never sets bits 13-15', () => {
    // Act
    const result = encodePermissionMask([
      block([], { shorthand: 'write-all' }),
      block([['unknown-a', 'write'], ['unknown-b', 'admin']]),
    ]);

    // Assess
    expect(result.mask).toBe(WRITE_ALL_MASK | UNKNOWN_PERMISSION_BIT);
    expect(result.unknownScopes).toHaveLength(2);
  });
});
