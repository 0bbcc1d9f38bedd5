/**
 * The audit report from real replay, drift radar and governance outputs
 * (round-tripped through JSON as the CLI writes and reads them), the
 * verdict, markdown escaping, and the input validation naming file and field.
 */
import { buildBlock, type StoredBlock } from '../../src/ledger/block';
import {
  auditVerdict,
  escapeCell,
  parseDriftSignals,
  parseGovernanceChainResult,
  parseReplayResults,
  renderAuditReport,
} from '../../src/ledger/audit-report';
import { runDriftRadar, type DriftRadarResult } from '../../src/ledger/drift-radar';
import { createGovernanceJobs, runGovernanceChain, type GovernanceChainResult } from '../../src/ledger/governance-chain';
import { replayLedger, type ReplayResult } from '../../src/ledger/replay';
import { InputError } from '../../src/errors';
import type { Outcome } from '../../src/types';
import { validReport } from '../report/report-fixture';
import { MemoryLedgerStore } from './memory-ledger-store';

const REPO = 'acme/widgets';
const T0 = Date.UTC(2025, 2, 1, 10, 0, 0);
const NOW = () => new Date(Date.UTC(2025, 2, 2));

async function seed(store: MemoryLedgerStore, outcomes: Outcome[], options: { repository?: string; commit?: string } = {}): Promise<StoredBlock[]> {
  const repository = options.repository ?? REPO;
  const blocks: StoredBlock[] = [];
  let previous = await store.head(repository);
  for (const outcome of outcomes) {
    const height = previous === undefined ? 0 : previous.height + 1;
    const report = validReport();
    report.machine_decision.outcome = outcome;
    const block = buildBlock({
      report,
      repository,
      mode: 'pull_request',
      commit: options.commit ?? height.toString(16).padStart(40, '0'),
      previous,
      actions: [],
      dualActivationHeight: undefined,
      timestamp: new Date(T0 + height * 60_000),
    });
    await store.append(block);
    blocks.push(block);
    previous = block;
  }
  return blocks;
}

/** The three outputs as the CLI writes them to disk and reads them back. */
async function outputs(store: MemoryLedgerStore, policy: 'strict' | 'moderate' | 'permissive' = 'moderate'): Promise<{ replay: ReplayResult; drift: DriftRadarResult; governance: GovernanceChainResult }> {
  const replay = parseReplayResults(JSON.stringify(await replayLedger(store, { strategy: 'full_chain' })), 'replay.json');
  const drift = parseDriftSignals(JSON.stringify(await runDriftRadar(store, { policy, now: NOW })), 'drift_signals.json');
  const jobs = createGovernanceJobs({ verifyEpochs: async () => [], migrationStatus: () => ({ currentVersion: 1, latestVersion: 1 }) });
  const governance = parseGovernanceChainResult(JSON.stringify(await runGovernanceChain(store, jobs, { now: NOW })), 'governance.json');
  return { replay, drift, governance };
}

describe('renderAuditReport', () => {
  it('reports PASS with a summary table on an intact ledger', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'warn', 'block']);
    const { replay, drift, governance } = await outputs(store);

    // Act
    const markdown = renderAuditReport({ replayResults: replay, driftSignals: drift, governance, generatedAt: '2025-03-02T00:00:00.000Z' });

    // Assess
    expect(markdown).toBe(
      [
        '# Ledger audit report',
        '',
        'Generated 2025-03-02T00:00:00.000Z.',
        '',
        '## Verdict',
        '',
        '**PASS** — replay verified 3 block(s); drift radar: GOVERNANCE SIGNAL: OK (moderate); Governance Chain: PASSED (6/6 jobs).',
        '',
        '## Summary',
        '',
        '| Check | Result |',
        '|---|---|',
        '| Replay (full_chain) | 3 blocks replayed, success rate 100%, 0 failed height(s), 0 failure(s) |',
        '| Drift radar (moderate; schema, hash-delta, metadata, statement) | GOVERNANCE SIGNAL: OK — 0 signal(s): 0 critical, 0 error, 0 warn, 0 info; 3 block(s) in 1 stream(s) |',
        '| Governance chain | PASSED (6/6 jobs) |',
        '',
        '### Streams replayed',
        '',
        '| Repository | Head | Heights | Replayed | Failed | Anchor epoch |',
        '|---|---|---|---|---|---|',
        '| acme/widgets | 2 | 0–2 | 3 | 0 | — |',
        '',
        '## Replay failures',
        '',
        'None: every hash, root and link recomputed as stored.',
        '',
        '## Drift signals',
        '',
        'None under the moderate policy.',
        '',
        '## Governance chain',
        '',
        'Governance Chain: PASSED (6/6 jobs)',
        '',
        '| Job | Status | Summary |',
        '|---|---|---|',
        '| schema/migration check | passed | migration 1 of 1; 1 stream head(s) in block schema 1 |',
        '| replay verification | passed | Replayed 3 blocks, Success rate: 100% |',
        '| epoch validation | passed | 0 sealed epoch(s) verified (no sealed epoch in range) |',
        '| drift radar | passed | GOVERNANCE SIGNAL: OK under moderate (0 signal(s): 0 critical, 0 error, 0 warn, 0 info) |',
        '| attestation integrity sweep | passed | attestation roots of 3 block(s) recomputed from their leaves |',
        '| dual-commitment readiness | passed | ready: dual commitment not activated (SHA3-256 is available in this runtime; \\`phase-mirror ledger activate-dual --at H\\` can activate it) |',
        '',
      ].join('\n'),
    );
  });

  it('reports FAIL with every failing height and field and the signals behind it', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'warn', 'block', 'pass']);
    store.tamperBlock(REPO, 2, (b) => {
      b.fields = { ...b.fields, outcome: 'pass' };
    });
    store.tamperBlock(REPO, 3, (b) => {
      b.hash = 'a'.repeat(64);
    });
    const { replay, drift, governance } = await outputs(store);

    // Act
    const markdown = renderAuditReport({ replayResults: replay, driftSignals: drift, governance });

    // Assess
    const lines = markdown.split('\n');
    expect(lines).toContain('**FAIL** — replay found 2 failure(s) at 2 height(s); drift radar: GOVERNANCE SIGNAL: BLOCK (moderate); Governance Chain: FAILED (4/6 jobs) — failed: replay\\_verification, drift\\_radar.');
    expect(lines).toContain('| acme/widgets | 2 | `outcome` | column | stored column outcome differs from the canonical bytes (expected `block`, stored `pass`) |');
    expect(lines).toContain(`| acme/widgets | 3 | \`hash\` | block\\_hash | the stored hash is not the SHA-256 of the canonical bytes (expected \`${replay.failures[1]!.expected!}\`, stored \`${'a'.repeat(64)}\`) |`);
    expect(lines).toContain('| critical | BLOCK | hash-delta | column\\_mismatch | acme/widgets | 2 | `outcome` | stored column outcome differs from the canonical bytes |');
    expect(lines).toContain('| replay verification | **failed** | Replayed 4 blocks, Success rate: 50%; 2 failure(s) at 2 height(s) |');
    expect(markdown).not.toContain('Generated');
  });

  it('reports ATTENTION when the drift radar only warns', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'block'], { commit: 'c'.repeat(40) });
    const { replay, drift } = await outputs(store, 'permissive');

    // Act
    const markdown = renderAuditReport({ replayResults: replay, driftSignals: drift });

    // Assess
    expect(drift.signal).toBe('WARN');
    expect(markdown).toContain('**ATTENTION** — replay verified 2 block(s); drift radar: GOVERNANCE SIGNAL: WARN (permissive).');
    expect(markdown).toContain('| error | WARN | statement | nondeterministic\\_outcome | acme/widgets | 1 (see 0) | `outcome` |');
    expect(markdown).not.toContain('## Governance chain');
  });

  it('lists at most maxRows rows per table and counts the rest', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'pass', 'pass', 'pass']);
    for (const height of [0, 1, 2, 3]) {
      store.tamperBlock(REPO, height, (b) => {
        b.fields = { ...b.fields, mode: 'forged' };
      });
    }
    const { replay, drift } = await outputs(store);

    // Act
    const markdown = renderAuditReport({ replayResults: replay, driftSignals: drift, maxRows: 3 });

    // Assess
    expect(markdown).toContain('… and 1 more failure(s), listed in the JSON input.');
    expect(markdown).toContain('… and 1 more signal(s), listed in the JSON input.');
    expect(markdown.match(/\| `mode` \| column \|/g)).toHaveLength(3);
  });

  it('escapes values so no cell breaks the table or injects markup', () => {
    // Act
    const escaped = escapeCell('evil|repo <script>\n*bold* [link](x) `code` #1 ~~');

    // Assess
    expect(escaped).toBe('evil\\|repo &lt;script&gt; \\*bold\\* \\[link\\](x) \\`code\\` \\#1 \\~\\~');
  });

  it('prints a hostile repository name escaped in every table', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'pass'], { repository: 'a|b<img>' });
    store.tamperBlock('a|b<img>', 1, (b) => {
      b.hash = '1'.repeat(64);
    });
    const { replay, drift } = await outputs(store);

    // Act
    const markdown = renderAuditReport({ replayResults: replay, driftSignals: drift });

    // Assess
    expect(markdown).not.toContain('<img>');
    expect(markdown).not.toContain('a|b');
    expect(markdown).toContain('| a\\|b&lt;img&gt; | 1 | `hash` |');
  });
});

describe('auditVerdict', () => {
  it('fails on replay failures, a BLOCK signal or a failed governance chain', () => {
    // Prepare
    const replay = { failures: [] } as unknown as ReplayResult;
    const failedReplay = { failures: [{}] } as unknown as ReplayResult;
    const ok = { signal: 'OK' } as DriftRadarResult;
    const warn = { signal: 'WARN' } as DriftRadarResult;
    const block = { signal: 'BLOCK' } as DriftRadarResult;
    const failedChain = { passed: false } as GovernanceChainResult;

    // Act
    const verdicts = [
      auditVerdict({ replayResults: replay, driftSignals: ok }),
      auditVerdict({ replayResults: replay, driftSignals: warn }),
      auditVerdict({ replayResults: failedReplay, driftSignals: ok }),
      auditVerdict({ replayResults: replay, driftSignals: block }),
      auditVerdict({ replayResults: replay, driftSignals: warn, governance: failedChain }),
    ];

    // Assess
    expect(verdicts).toEqual(['PASS', 'ATTENTION', 'FAIL', 'FAIL', 'FAIL']);
  });
});

describe('input parsers', () => {
  function rejection(parse: () => unknown): InputError {
    try {
      parse();
    } catch (error) {
      if (error instanceof InputError) return error;
      throw error;
    }
    throw new Error('expected an InputError');
  }

  it('name the file when it is not JSON or not an object', () => {
    // Act
    const notJson = rejection(() => parseReplayResults('{oops', 'out/replay.json'));
    const array = rejection(() => parseDriftSignals('[]', 'signals.json'));

    // Assess
    expect(notJson).toMatchObject({ code: 'INPUT_INVALID', location: { file: 'out/replay.json', field: '$' } });
    expect(notJson.message).toMatch(/^out\/replay\.json: is not JSON/);
    expect(array.message).toBe('signals.json: expected drift signals (`phase-mirror ledger drift-radar --output`) (a JSON object)');
  });

  it('name the file and the field of replay results that do not fit', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass']);
    store.tamperBlock(REPO, 0, (b) => {
      b.hash = '2'.repeat(64);
    });
    const valid = JSON.parse(JSON.stringify(await replayLedger(store, { strategy: 'full_chain' })));
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, strategy: 'partial' }, 'strategy'],
      [{ ...valid, replayed: -1 }, 'replayed'],
      [{ ...valid, successRate: 101 }, 'successRate'],
      [{ ...valid, failures: {} }, 'failures'],
      [{ ...valid, failures: [{ ...valid.failures[0], height: '3' }] }, 'failures[0].height'],
      [{ ...valid, failures: [{ ...valid.failures[0], expected: 3 }] }, 'failures[0].expected'],
      [{ ...valid, range: [{ ...valid.range[0], head: 'x' }] }, 'range[0].head'],
      [{ ...valid, range: [{ ...valid.range[0], anchor: { epoch: 1 } }] }, 'range[0].anchor.startHeight'],
      [{ ...valid, window: 'ten' }, 'window'],
    ];

    // Act
    const errors = cases.map(([value]) => rejection(() => parseReplayResults(JSON.stringify(value), 'replay.json')));

    // Assess
    expect(parseReplayResults(JSON.stringify(valid), 'replay.json').failures).toHaveLength(1);
    expect(errors.map((e) => e.location.field)).toEqual(cases.map(([, field]) => field));
    expect(errors.every((e) => e.location.file === 'replay.json' && e.message.startsWith('replay.json: '))).toBe(true);
  });

  it('name the file and the field of drift signals that do not fit', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    await seed(store, ['pass', 'pass']);
    store.tamperBlock(REPO, 1, (b) => {
      b.hash = '3'.repeat(64);
    });
    const valid = JSON.parse(JSON.stringify(await runDriftRadar(store, { now: NOW })));
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, kind: 'phase-mirror.replay' }, 'kind'],
      [{ ...valid, policy: 'lax' }, 'policy'],
      [{ ...valid, signal: 'MAYBE' }, 'signal'],
      [{ ...valid, scanTypes: ['schema', 'vibes'] }, 'scanTypes[1]'],
      [{ ...valid, scanned: { repositories: 1 } }, 'scanned.blocks'],
      [{ ...valid, counts: { ...valid.counts, warn: null } }, 'counts.warn'],
      [{ ...valid, signals: [{ ...valid.signals[0], severity: 'fatal' }] }, 'signals[0].severity'],
      [{ ...valid, signals: [{ ...valid.signals[0], related: ['0'] }] }, 'signals[0].related'],
      [{ ...valid, signals: ['x'] }, 'signals[0]'],
    ];

    // Act
    const errors = cases.map(([value]) => rejection(() => parseDriftSignals(JSON.stringify(value), 'drift.json')));

    // Assess
    expect(parseDriftSignals(JSON.stringify(valid), 'drift.json').signals).toHaveLength(1);
    expect(errors.map((e) => e.location.field)).toEqual(cases.map(([, field]) => field));
    expect(errors[0]!.message).toBe('drift.json: kind must be "phase-mirror.drift-signals": not a drift radar output');
  });

  it('name the file and the field of governance results that do not fit', async () => {
    // Prepare
    const store = new MemoryLedgerStore();
    const jobs = createGovernanceJobs({ verifyEpochs: async () => [] });
    const valid = JSON.parse(JSON.stringify(await runGovernanceChain(store, jobs, { now: NOW })));
    const cases: [Record<string, unknown>, string][] = [
      [{ ...valid, kind: 'other' }, 'kind'],
      [{ ...valid, passed: 'yes' }, 'passed'],
      [{ ...valid, failedJobs: ['lint'] }, 'failedJobs[0]'],
      [{ ...valid, jobs: [{ ...valid.jobs[0], status: 'skipped' }] }, 'jobs[0].status'],
      [{ ...valid, jobs: [{ ...valid.jobs[0], notes: [1] }] }, 'jobs[0].notes'],
    ];

    // Act
    const errors = cases.map(([value]) => rejection(() => parseGovernanceChainResult(JSON.stringify(value), 'gov.json')));

    // Assess
    expect(parseGovernanceChainResult(JSON.stringify(valid), 'gov.json').passed).toBe(true);
    expect(errors.map((e) => e.location.field)).toEqual(cases.map(([, field]) => field));
  });
});
