/**
 * Contract of the ConsentStore port (DESIGN §7): org-wide and repository
 * grants per resource, expiry, revocation with who/when, history. Every
 * adapter runs it unchanged.
 */
import { CONSENT_RESOURCES, type ConsentScope, type ConsentStore } from '../../../src/store/ports';
import { uniqueId, withStore, type MakeStore } from './harness';

const T0 = '2030-01-01T00:00:00.000Z';
const T1 = '2030-01-02T00:00:00.000Z';
const T2 = '2030-01-03T00:00:00.000Z';
const T3 = '2030-01-04T00:00:00.000Z';
const at = (iso: string): Date => new Date(iso);

function scopes(): { org: ConsentScope; repo: ConsentScope; otherRepo: ConsentScope } {
  const orgId = uniqueId('org');
  return {
    org: { orgId, resource: 'fp_patterns' },
    repo: { orgId, resource: 'fp_patterns', repository: 'acme/widgets' },
    otherRepo: { orgId, resource: 'fp_patterns', repository: 'acme/gadgets' },
  };
}

export function describeConsentStoreContract(name: string, makeStore: MakeStore<ConsentStore>): void {
  describe(`ConsentStore contract (${name})`, () => {
    it('answers not_requested for a scope never granted, and lists nothing', async () => {
      await withStore(makeStore, async (consent) => {
        const { org, repo } = scopes();
        expect(await consent.check(org, at(T0))).toBe('not_requested');
        expect(await consent.check(repo, at(T0))).toBe('not_requested');
        expect(await consent.list(org.orgId)).toEqual([]);
        expect(await consent.history(org.orgId)).toEqual([]);
      });
    });

    it('grants org-wide: the org and every repository without its own record are granted', async () => {
      await withStore(makeStore, async (consent) => {
        // Prepare
        const { org, repo, otherRepo } = scopes();

        // Act
        const record = await consent.grant(org, { grantedBy: 'alice', grantedAt: T0 });

        // Assess
        expect(record).toEqual({ orgId: org.orgId, resource: 'fp_patterns', grantedBy: 'alice', grantedAt: T0 });
        expect(await consent.check(org, at(T1))).toBe('granted');
        expect(await consent.check(repo, at(T1))).toBe('granted');
        expect(await consent.check(otherRepo, at(T1))).toBe('granted');
        expect(await consent.list(org.orgId)).toEqual([record]);
      });
    });

    it('revokes with who and when, and records both actions in the history', async () => {
      await withStore(makeStore, async (consent) => {
        // Prepare
        const { org, repo } = scopes();
        await consent.grant(repo, { grantedBy: 'alice', grantedAt: T0, expiresAt: T3 });

        // Act
        const revoked = await consent.revoke(repo, { revokedBy: 'bob', revokedAt: T1 });

        // Assess
        expect(revoked).toEqual({ ...repo, grantedBy: 'alice', grantedAt: T0, expiresAt: T3, revokedBy: 'bob', revokedAt: T1 });
        expect(await consent.check(repo, at(T2))).toBe('revoked');
        expect(await consent.list(org.orgId)).toEqual([revoked]);
        expect(await consent.history(org.orgId)).toEqual([
          { ...repo, action: 'grant', actor: 'alice', at: T0, expiresAt: T3 },
          { ...repo, action: 'revoke', actor: 'bob', at: T1 },
        ]);
      });
    });

    it('re-grants a revoked scope: the revocation is cleared and the expiry replaced', async () => {
      await withStore(makeStore, async (consent) => {
        // Prepare
        const { org } = scopes();
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T0, expiresAt: T1 });
        await consent.revoke(org, { revokedBy: 'bob', revokedAt: '2030-01-01T12:00:00.000Z' });

        // Act
        const regranted = await consent.grant(org, { grantedBy: 'carol', grantedAt: T2 });

        // Assess: no expiry any more, no revocation, three history entries
        expect(regranted).toEqual({ ...org, grantedBy: 'carol', grantedAt: T2 });
        expect(await consent.list(org.orgId)).toEqual([regranted]);
        expect(await consent.check(org, at('2099-01-01T00:00:00.000Z'))).toBe('granted');
        expect((await consent.history(org.orgId)).map((entry) => [entry.action, entry.actor])).toEqual([
          ['grant', 'alice'],
          ['revoke', 'bob'],
          ['grant', 'carol'],
        ]);
      });
    });

    it('re-grants a live scope with a new expiry', async () => {
      await withStore(makeStore, async (consent) => {
        const { org } = scopes();
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T0 });
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T1, expiresAt: T2 });
        expect(await consent.check(org, at(T1))).toBe('granted');
        expect(await consent.check(org, at(T3))).toBe('expired');
        expect(await consent.list(org.orgId)).toEqual([{ ...org, grantedBy: 'alice', grantedAt: T1, expiresAt: T2 }]);
      });
    });

    it('refuses to revoke a scope never granted, with NotFoundError, and records nothing', async () => {
      await withStore(makeStore, async (consent) => {
        // Prepare: the org-wide scope is granted, the repository scope is not
        const { org, repo } = scopes();
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T0 });

        // Act
        const attempt = consent.revoke(repo, { revokedBy: 'bob', revokedAt: T1 });

        // Assess
        await expect(attempt).rejects.toMatchObject({ name: 'NotFoundError', code: 'NOT_FOUND' });
        expect(await consent.check(repo, at(T1))).toBe('granted');
        expect(await consent.history(org.orgId)).toHaveLength(1);
      });
    });

    it('allows revoking an already revoked scope: the latest revocation stands, both are in the history', async () => {
      await withStore(makeStore, async (consent) => {
        const { org } = scopes();
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T0 });
        await consent.revoke(org, { revokedBy: 'bob', revokedAt: T1 });
        const again = await consent.revoke(org, { revokedBy: 'carol', revokedAt: T2 });

        expect(again).toMatchObject({ revokedBy: 'carol', revokedAt: T2, grantedBy: 'alice' });
        expect(await consent.check(org, at(T3))).toBe('revoked');
        expect((await consent.history(org.orgId)).map((entry) => [entry.action, entry.actor, entry.at])).toEqual([
          ['grant', 'alice', T0],
          ['revoke', 'bob', T1],
          ['revoke', 'carol', T2],
        ]);
      });
    });

    it('is granted strictly before the expiry and expired at it', async () => {
      await withStore(makeStore, async (consent) => {
        // Prepare
        const { org } = scopes();
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T0, expiresAt: T2 });

        // Act / Assess
        expect(await consent.check(org, new Date(Date.parse(T2) - 1))).toBe('granted');
        expect(await consent.check(org, at(T2))).toBe('expired');
        expect(await consent.check(org, at(T3))).toBe('expired');
      });
    });

    it('lets a repository record decide over the org-wide record, whatever their states', async () => {
      await withStore(makeStore, async (consent) => {
        // Prepare: org-wide granted; one repository revoked; another repository expired
        const { org, repo, otherRepo } = scopes();
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T0 });
        await consent.grant(repo, { grantedBy: 'alice', grantedAt: T0 });
        await consent.revoke(repo, { revokedBy: 'bob', revokedAt: T1 });
        await consent.grant(otherRepo, { grantedBy: 'alice', grantedAt: T0, expiresAt: T1 });
        const third: ConsentScope = { ...org, repository: 'acme/third' };

        // Act / Assess
        expect(await consent.check(repo, at(T2))).toBe('revoked');
        expect(await consent.check(otherRepo, at(T2))).toBe('expired');
        expect(await consent.check(third, at(T2))).toBe('granted');
        expect(await consent.check(org, at(T2))).toBe('granted');

        // And the other way round: org-wide revoked, a repository granted
        await consent.revoke(org, { revokedBy: 'bob', revokedAt: T2 });
        await consent.grant(third, { grantedBy: 'carol', grantedAt: T2 });
        expect(await consent.check(third, at(T3))).toBe('granted');
        expect(await consent.check(org, at(T3))).toBe('revoked');
        expect(await consent.check({ ...org, repository: 'acme/fourth' }, at(T3))).toBe('revoked');
      });
    });

    it('compares repositories case-insensitively and stores them lower-cased', async () => {
      await withStore(makeStore, async (consent) => {
        const { org } = scopes();
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T0 });
        const record = await consent.grant({ ...org, repository: 'Acme/Widgets' }, { grantedBy: 'alice', grantedAt: T0 });
        await consent.revoke({ ...org, repository: 'ACME/widgets' }, { revokedBy: 'bob', revokedAt: T1 });

        expect(record.repository).toBe('acme/widgets');
        expect(await consent.check({ ...org, repository: 'acme/WIDGETS' }, at(T2))).toBe('revoked');
        expect(await consent.list(org.orgId)).toHaveLength(2);
      });
    });

    it('keeps resources and organisations apart', async () => {
      await withStore(makeStore, async (consent) => {
        const { org } = scopes();
        const otherOrg: ConsentScope = { ...org, orgId: uniqueId('org') };
        await consent.grant(org, { grantedBy: 'alice', grantedAt: T0 });

        expect(await consent.check({ ...org, resource: 'fp_metrics' }, at(T1))).toBe('not_requested');
        expect(await consent.check(otherOrg, at(T1))).toBe('not_requested');
        expect(await consent.list(otherOrg.orgId)).toEqual([]);
        expect(await consent.history(otherOrg.orgId)).toEqual([]);
        await expect(consent.revoke(otherOrg, { revokedBy: 'bob', revokedAt: T1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      });
    });

    it('lists current records by resource, org-wide first, then repository', async () => {
      await withStore(makeStore, async (consent) => {
        // Prepare: written out of order
        const orgId = uniqueId('org');
        const grant = { grantedBy: 'alice', grantedAt: T0 };
        await consent.grant({ orgId, resource: 'rule_calibration', repository: 'acme/b' }, grant);
        await consent.grant({ orgId, resource: 'fp_patterns', repository: 'acme/z' }, grant);
        await consent.grant({ orgId, resource: 'rule_calibration' }, grant);
        await consent.grant({ orgId, resource: 'fp_patterns', repository: 'acme/a' }, grant);
        await consent.grant({ orgId, resource: 'audit_logs' }, grant);
        await consent.grant({ orgId, resource: 'rule_calibration', repository: 'acme/a' }, grant);

        // Act
        const listed = await consent.list(orgId);

        // Assess
        expect(listed.map((record) => [record.resource, record.repository])).toEqual([
          ['audit_logs', undefined],
          ['fp_patterns', 'acme/a'],
          ['fp_patterns', 'acme/z'],
          ['rule_calibration', undefined],
          ['rule_calibration', 'acme/a'],
          ['rule_calibration', 'acme/b'],
        ]);
      });
    });

    it('returns the history oldest first by the time of each action, across scopes', async () => {
      await withStore(makeStore, async (consent) => {
        // Prepare: written in an order different from their times, with mixed precision
        const { org, repo } = scopes();
        await consent.grant(repo, { grantedBy: 'carol', grantedAt: '2030-01-03T00:00:00Z' });
        await consent.grant(org, { grantedBy: 'alice', grantedAt: '2030-01-01T00:00:00.5Z', expiresAt: T3 });
        await consent.revoke(org, { revokedBy: 'bob', revokedAt: '2030-01-02T01:00:00+01:00' });

        // Act
        const history = await consent.history(org.orgId);

        // Assess: times are returned exactly as given
        expect(history).toEqual([
          { ...org, action: 'grant', actor: 'alice', at: '2030-01-01T00:00:00.5Z', expiresAt: T3 },
          { ...org, action: 'revoke', actor: 'bob', at: '2030-01-02T01:00:00+01:00' },
          { ...repo, action: 'grant', actor: 'carol', at: '2030-01-03T00:00:00Z' },
        ]);
      });
    });

    it('returns every history entry of a busy organisation', async () => {
      await withStore(makeStore, async (consent) => {
        const { org } = scopes();
        const count = 30;
        for (let i = 0; i < count; i += 1) {
          const time = new Date(Date.parse(T0) + i * 60_000).toISOString();
          if (i % 2 === 0) await consent.grant(org, { grantedBy: `user-${i}`, grantedAt: time });
          else await consent.revoke(org, { revokedBy: `user-${i}`, revokedAt: time });
        }
        const history = await consent.history(org.orgId);
        expect(history.map((entry) => entry.actor)).toEqual(Array.from({ length: count }, (_, i) => `user-${i}`));
      });
    });

    it('accepts every documented resource', async () => {
      await withStore(makeStore, async (consent) => {
        const orgId = uniqueId('org');
        for (const resource of CONSENT_RESOURCES) await consent.grant({ orgId, resource }, { grantedBy: 'alice', grantedAt: T0 });
        for (const resource of CONSENT_RESOURCES) expect(await consent.check({ orgId, resource }, at(T1))).toBe('granted');
        expect(await consent.list(orgId)).toHaveLength(CONSENT_RESOURCES.length);
      });
    });

    it('rejects an unknown resource, naming the field and listing the valid values', async () => {
      await withStore(makeStore, async (consent) => {
        const orgId = uniqueId('org');
        const scope = { orgId, resource: 'everything' } as unknown as ConsentScope;
        for (const attempt of [
          () => consent.grant(scope, { grantedBy: 'alice', grantedAt: T0 }),
          () => consent.revoke(scope, { revokedBy: 'alice', revokedAt: T0 }),
          () => consent.check(scope, at(T0)),
        ]) {
          await expect(attempt()).rejects.toMatchObject({
            name: 'InputError',
            code: 'INPUT_INVALID',
            location: { field: 'resource' },
            message: expect.stringContaining(CONSENT_RESOURCES.join(', ')),
          });
        }
        expect(await consent.history(orgId)).toEqual([]);
      });
    });

    it('rejects invalid repositories, actors, times and an expiry not after the grant, writing nothing', async () => {
      await withStore(makeStore, async (consent) => {
        const { org } = scopes();
        const cases: Array<[() => Promise<unknown>, string]> = [
          [() => consent.grant({ ...org, repository: 'widgets' }, { grantedBy: 'alice', grantedAt: T0 }), 'repository'],
          [() => consent.grant({ ...org, repository: 'acme/widgets/x' }, { grantedBy: 'alice', grantedAt: T0 }), 'repository'],
          [() => consent.grant({ ...org, repository: 'acme/..' }, { grantedBy: 'alice', grantedAt: T0 }), 'repository'],
          [() => consent.grant({ ...org, orgId: '' }, { grantedBy: 'alice', grantedAt: T0 }), 'orgId'],
          [() => consent.grant({ ...org, orgId: 'two words' }, { grantedBy: 'alice', grantedAt: T0 }), 'orgId'],
          [() => consent.grant(org, { grantedBy: ' ', grantedAt: T0 }), 'grantedBy'],
          [() => consent.grant(org, { grantedBy: 'alice', grantedAt: 'yesterday' }), 'grantedAt'],
          [() => consent.grant(org, { grantedBy: 'alice', grantedAt: '2030-01-01' }), 'grantedAt'],
          [() => consent.grant(org, { grantedBy: 'alice', grantedAt: '2030-02-31T00:00:00Z' }), 'grantedAt'],
          [() => consent.grant(org, { grantedBy: 'alice', grantedAt: T0, expiresAt: 'never' }), 'expiresAt'],
          [() => consent.grant(org, { grantedBy: 'alice', grantedAt: T1, expiresAt: T1 }), 'expiresAt'],
          [() => consent.grant(org, { grantedBy: 'alice', grantedAt: T1, expiresAt: T0 }), 'expiresAt'],
          [() => consent.revoke(org, { revokedBy: '', revokedAt: T1 }), 'revokedBy'],
          [() => consent.revoke(org, { revokedBy: 'bob', revokedAt: '2030-01-01T25:00:00Z' }), 'revokedAt'],
          [() => consent.check(org, new Date(Number.NaN)), 'at'],
          [() => consent.list(''), 'orgId'],
          [() => consent.history(''), 'orgId'],
        ];
        for (const [attempt, field] of cases) {
          await expect(attempt()).rejects.toMatchObject({ name: 'InputError', code: 'INPUT_INVALID', location: { field } });
        }
        expect(await consent.list(org.orgId)).toEqual([]);
        expect(await consent.history(org.orgId)).toEqual([]);
      });
    });
  });
}
