import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { DependencyError, IntegrityError } from '../../src/errors';
import {
  compileReportValidator,
  describeSchemaError,
  reportValidatorSource,
  resolveReportValidator,
  standaloneValidatorPath,
  validateReport,
} from '../../src/report/validate';
import { PACKAGE_DIR, fullReport, stampedPackage, tempDirWithModules, validReport } from './report-fixture';

type Mutable = Record<string, unknown>;

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Runs validateReport and returns the IntegrityError it throws. */
function rejection(report: unknown): IntegrityError {
  try {
    validateReport(report);
  } catch (error) {
    if (error instanceof IntegrityError) return error;
    throw error;
  }
  throw new Error('expected the report to be rejected');
}

/** A valid report with one change applied to a deep member. */
function mutated(change: (report: Mutable & { meta: Mutable; items: Mutable[] & { evidence: Mutable[] }[] }) => void): unknown {
  const report = JSON.parse(JSON.stringify(fullReport())) as Mutable & { meta: Mutable; items: Mutable[] & { evidence: Mutable[] }[] };
  change(report);
  return report;
}

describe('validateReport', () => {
  it('accepts a valid report', () => {
    expect(() => validateReport(validReport())).not.toThrow();
  });

  it('accepts every known optional meta field and extra meta fields', () => {
    const report = { ...fullReport(), meta: { ...fullReport().meta, host: { name: 'lambda', region: 'eu-west-1' } } };
    expect(() => validateReport(report)).not.toThrow();
  });

  it('accepts a finding without evidence and a report without findings', () => {
    const report = validReport();
    report.items[0].evidence = [];
    expect(() => validateReport(report)).not.toThrow();
    expect(() => validateReport({ ...validReport(), items: [] })).not.toThrow();
  });

  it.each([
    ['meta', '(root)', "must have required property 'meta'", (r: Mutable) => delete r.meta],
    ['items', '(root)', "must have required property 'items'", (r: Mutable) => delete r.items],
    ['summary', '(root)', "must have required property 'summary'", (r: Mutable) => delete r.summary],
    ['machine_decision', '(root)', "must have required property 'machine_decision'", (r: Mutable) => delete r.machine_decision],
    ['meta.schema_version', '/meta', "must have required property 'schema_version'", (r: { meta: Mutable }) => delete r.meta.schema_version],
    ['meta.run_id', '/meta', "must have required property 'run_id'", (r: { meta: Mutable }) => delete r.meta.run_id],
    ['meta.timestamp', '/meta', "must have required property 'timestamp'", (r: { meta: Mutable }) => delete r.meta.timestamp],
    ['meta.rules_hash', '/meta', "must have required property 'rules_hash'", (r: { meta: Mutable }) => delete r.meta.rules_hash],
    ['item id', '/items/0', "must have required property 'id'", (r: { items: Mutable[] }) => delete r.items[0].id],
    ['item rule_id', '/items/0', "must have required property 'rule_id'", (r: { items: Mutable[] }) => delete r.items[0].rule_id],
    ['item rule_version', '/items/1', "must have required property 'rule_version'", (r: { items: Mutable[] }) => delete r.items[1].rule_version],
    ['item severity', '/items/0', "must have required property 'severity'", (r: { items: Mutable[] }) => delete r.items[0].severity],
    ['item title', '/items/0', "must have required property 'title'", (r: { items: Mutable[] }) => delete r.items[0].title],
    ['item evidence', '/items/0', "must have required property 'evidence'", (r: { items: Mutable[] }) => delete r.items[0].evidence],
    ['evidence path', '/items/0/evidence/0', "must have required property 'path'", (r: { items: { evidence: Mutable[] }[] }) => delete r.items[0].evidence[0].path],
    ['evidence line', '/items/0/evidence/0', "must have required property 'line'", (r: { items: { evidence: Mutable[] }[] }) => delete r.items[0].evidence[0].line],
    ['evidence snippet', '/items/0/evidence/0', "must have required property 'snippet'", (r: { items: { evidence: Mutable[] }[] }) => delete r.items[0].evidence[0].snippet],
    ['evidence hash', '/items/0/evidence/0', "must have required property 'hash'", (r: { items: { evidence: Mutable[] }[] }) => delete r.items[0].evidence[0].hash],
    ['snippet __brand', '/items/0/evidence/0/snippet', "must have required property '__brand'", (r: { items: { evidence: { snippet: Mutable }[] }[] }) => delete r.items[0].evidence[0].snippet.__brand],
    ['snippet __mac', '/items/0/evidence/0/snippet', "must have required property '__mac'", (r: { items: { evidence: { snippet: Mutable }[] }[] }) => delete r.items[0].evidence[0].snippet.__mac],
    ['snippet value', '/items/0/evidence/0/snippet', "must have required property 'value'", (r: { items: { evidence: { snippet: Mutable }[] }[] }) => delete r.items[0].evidence[0].snippet.value],
    ['snippet nonce_version', '/items/0/evidence/0/snippet', "must have required property 'nonce_version'", (r: { items: { evidence: { snippet: Mutable }[] }[] }) => delete r.items[0].evidence[0].snippet.nonce_version],
    ['summary total', '/summary', "must have required property 'total'", (r: { summary: Mutable }) => delete r.summary.total],
    ['summary by_severity', '/summary', "must have required property 'by_severity'", (r: { summary: Mutable }) => delete r.summary.by_severity],
    ['by_severity low', '/summary/by_severity', "must have required property 'low'", (r: { summary: { by_severity: Mutable } }) => delete r.summary.by_severity.low],
    ['decision outcome', '/machine_decision', "must have required property 'outcome'", (r: { machine_decision: Mutable }) => delete r.machine_decision.outcome],
    ['decision degraded', '/machine_decision', "must have required property 'degraded'", (r: { machine_decision: Mutable }) => delete r.machine_decision.degraded],
    ['decision reason', '/machine_decision', "must have required property 'reason'", (r: { machine_decision: Mutable }) => delete r.machine_decision.reason],
    ['degraded details', '/meta/degraded', "must have required property 'details'", (r: { meta: { degraded: Mutable } }) => delete r.meta.degraded.details],
    ['demotion threshold', '/meta/demotions/0', "must have required property 'threshold'", (r: { meta: { demotions: Mutable[] } }) => delete r.meta.demotions[0].threshold],
    ['evaluation error phase', '/meta/evaluationErrors/0', "must have required property 'phase'", (r: { meta: { evaluationErrors: Mutable[] } }) => delete r.meta.evaluationErrors[0].phase],
    ['suppression reviewer', '/meta/suppressions/0', "must have required property 'reviewer'", (r: { meta: { suppressions: Mutable[] } }) => delete r.meta.suppressions[0].reviewer],
    ['skipped file reason', '/meta/skipped_files/0', "must have required property 'reason'", (r: { meta: { skipped_files: Mutable[] } }) => delete r.meta.skipped_files[0].reason],
    ['event strict', '/meta/event', "must have required property 'strict'", (r: { meta: { event: Mutable } }) => delete r.meta.event.strict],
    ['ledger hash', '/meta/ledger', "must have required property 'hash'", (r: { meta: { ledger: Mutable } }) => delete r.meta.ledger.hash],
    ['tool version', '/meta/tool', "must have required property 'version'", (r: { meta: { tool: Mutable } }) => delete r.meta.tool.version],
  ])('rejects a report without %s, naming %s', (_name, instancePath, message, remove) => {
    // Prepare
    const report = mutated((r) => (remove as (target: unknown) => void)(r));

    // Act
    const error = rejection(report);

    // Assess
    expect(error.code).toBe('REPORT_INVALID');
    expect(error.message).toContain(`${instancePath}: ${message}`);
  });

  it.each([
    ['severity', '/items/0/severity', (r: { items: Mutable[] }) => (r.items[0].severity = 'severe')],
    ['outcome', '/machine_decision/outcome', (r: { machine_decision: Mutable }) => (r.machine_decision.outcome = 'fail')],
    ['degraded reason', '/meta/degraded/reason', (r: { meta: { degraded: Mutable } }) => (r.meta.degraded.reason = 'tired')],
    ['demotion fromStatus', '/meta/demotions/0/fromStatus', (r: { meta: { demotions: Mutable[] } }) => (r.meta.demotions[0].fromStatus = 'disabled')],
    ['demotion toStatus', '/meta/demotions/0/toStatus', (r: { meta: { demotions: Mutable[] } }) => (r.meta.demotions[0].toStatus = 'blocking')],
    ['evaluation phase', '/meta/evaluationErrors/0/phase', (r: { meta: { evaluationErrors: Mutable[] } }) => (r.meta.evaluationErrors[0].phase = 'load')],
    ['skip reason', '/meta/skipped_files/0/reason', (r: { meta: { skipped_files: Mutable[] } }) => (r.meta.skipped_files[0].reason = 'boring')],
    ['mode', '/meta/mode', (r: { meta: Mutable }) => (r.meta.mode = 'push')],
  ])('rejects an unknown %s value with the allowed values', (_name, instancePath, change) => {
    const error = rejection(mutated((r) => (change as (target: unknown) => void)(r)));
    expect(error.message).toContain(`${instancePath}: must be equal to one of the allowed values (`);
  });

  it('lists the allowed severities for a wrong severity', () => {
    const error = rejection(mutated((r) => (r.items[0].severity = 'severe')));
    expect(error.message).toContain('/items/0/severity: must be equal to one of the allowed values ("critical", "high", "medium", "low")');
    expect(error.location.field).toBe('/items/0/severity');
    expect(error.context.errors).toEqual(['/items/0/severity: must be equal to one of the allowed values ("critical", "high", "medium", "low")']);
  });

  it.each([
    ['schema_version other than 2.0.0', '/meta/schema_version: must be equal to constant ("2.0.0")', (r: { meta: Mutable }) => (r.meta.schema_version = '1.0.0')],
    ['a timestamp that is not a date-time', '/meta/timestamp: must match format "date-time"', (r: { meta: Mutable }) => (r.meta.timestamp = 'yesterday')],
    ['an uppercase rules_hash', '/meta/rules_hash: must match pattern "^[0-9a-f]{64}$"', (r: { meta: Mutable }) => (r.meta.rules_hash = 'A'.repeat(64))],
    ['an empty run_id', '/meta/run_id: must NOT have fewer than 1 characters', (r: { meta: Mutable }) => (r.meta.run_id = '')],
    ['a short item id', '/items/0/id: must match pattern', (r: { items: Mutable[] }) => (r.items[0].id = 'abc')],
    ['a negative line', '/items/0/evidence/0/line: must be >= 0', (r: { items: { evidence: Mutable[] }[] }) => (r.items[0].evidence[0].line = -1)],
    ['a fractional line', '/items/0/evidence/0/line: must be integer', (r: { items: { evidence: Mutable[] }[] }) => (r.items[0].evidence[0].line = 1.5)],
    ['a short evidence hash', '/items/0/evidence/0/hash: must match pattern', (r: { items: { evidence: Mutable[] }[] }) => (r.items[0].evidence[0].hash = '00')],
    ['a brand that is not 64-hex', '/items/0/evidence/0/snippet/__brand: must match pattern', (r: { items: { evidence: { snippet: Mutable }[] }[] }) => (r.items[0].evidence[0].snippet.__brand = 'x'.repeat(64))],
    ['a MAC that is not 64-hex', '/items/0/evidence/0/snippet/__mac: must match pattern', (r: { items: { evidence: { snippet: Mutable }[] }[] }) => (r.items[0].evidence[0].snippet.__mac = 'f'.repeat(63))],
    ['nonce_version 0', '/items/0/evidence/0/snippet/nonce_version: must be >= 1', (r: { items: { evidence: { snippet: Mutable }[] }[] }) => (r.items[0].evidence[0].snippet.nonce_version = 0)],
    ['a negative count', '/summary/by_severity/high: must be >= 0', (r: { summary: { by_severity: Mutable } }) => (r.summary.by_severity.high = -1)],
    ['a string degraded flag', '/machine_decision/degraded: must be boolean', (r: { machine_decision: Mutable }) => (r.machine_decision.degraded = 'no')],
    ['an FPR above 1', '/meta/demotions/0/observedFPR: must be <= 1', (r: { meta: { demotions: Mutable[] } }) => (r.meta.demotions[0].observedFPR = 1.5)],
    ['a bad schema_hash', '/meta/schema_hash: must match pattern', (r: { meta: Mutable }) => (r.meta.schema_hash = 'c6a117')],
    ['pr_number 0', '/meta/event/pr_number: must be >= 1', (r: { meta: { event: Mutable } }) => (r.meta.event.pr_number = 0)],
    ['a non-string note', '/meta/notes/0: must be string', (r: { meta: Mutable }) => (r.meta.notes = [3])],
  ])('rejects %s', (_name, expected, change) => {
    const error = rejection(mutated((r) => (change as (target: unknown) => void)(r)));
    expect(error.message).toContain(expected);
  });

  it.each([
    ['top level', '(root)', (r: Mutable) => (r.extra = 1)],
    ['an item', '/items/0', (r: { items: Mutable[] }) => (r.items[0].extra = 1)],
    ['evidence', '/items/0/evidence/0', (r: { items: { evidence: Mutable[] }[] }) => (r.items[0].evidence[0].extra = 1)],
    ['a snippet', '/items/0/evidence/0/snippet', (r: { items: { evidence: { snippet: Mutable }[] }[] }) => (r.items[0].evidence[0].snippet.extra = 1)],
    ['the summary', '/summary', (r: { summary: Mutable }) => (r.summary.extra = 1)],
    ['the decision', '/machine_decision', (r: { machine_decision: Mutable }) => (r.machine_decision.extra = 1)],
    ['a known meta member', '/meta/ledger', (r: { meta: { ledger: Mutable } }) => (r.meta.ledger.extra = 1)],
  ])('rejects an additional property on %s, naming it', (_name, instancePath, change) => {
    const error = rejection(mutated((r) => (change as (target: unknown) => void)(r)));
    expect(error.message).toContain(`${instancePath}: must NOT have additional properties 'extra'`);
  });

  it('reports every violation, not only the first', () => {
    // Prepare
    const report = mutated((r) => {
      r.items[0].severity = 'severe';
      delete r.meta.run_id;
      r.items[1].evidence[0].line = -3;
    });

    // Act
    const error = rejection(report);

    // Assess
    expect(error.context.errors).toEqual(
      expect.arrayContaining([
        "/meta: must have required property 'run_id'",
        '/items/0/severity: must be equal to one of the allowed values ("critical", "high", "medium", "low")',
        '/items/1/evidence/0/line: must be >= 0',
      ]),
    );
    expect(error.message.split('\n')).toHaveLength(4);
  });

  it('caps the listed violations at 50 and keeps all of them in the context', () => {
    // Prepare
    const report = validReport();
    const template = report.items[0];
    report.items = Array.from({ length: 60 }, () => ({ ...template, severity: 'severe' as never }));

    // Act
    const error = rejection(report);

    // Assess
    expect(error.context.errors).toHaveLength(60);
    expect(error.message).toContain('/items/49/severity');
    expect(error.message).not.toContain('/items/50/severity');
    expect(error.message).toContain('... and 10 more');
  });

  it('rejects values that are not reports at all', () => {
    expect(rejection(null).message).toContain('(root): must be object');
    expect(rejection('report').location.field).toBe('/');
  });
});

describe('describeSchemaError', () => {
  it('falls back to the keyword when ajv gave no message', () => {
    const error: ErrorObject = { keyword: 'custom', instancePath: '/x', schemaPath: '#/x', params: {} };
    expect(describeSchemaError(error)).toBe('/x: custom');
  });
});

describe('resolveReportValidator', () => {
  it('compiles the shipped schema when no standalone validator was built', () => {
    // Act
    const resolved = resolveReportValidator(path.join(PACKAGE_DIR, 'test', 'report', 'no-such-validator.js'));

    // Assess
    expect(resolved.source).toBe('compiled');
    expect(resolved.validate(validReport())).toBe(true);
  });

  it('uses the standalone validator built from the same schema bytes', () => {
    // Prepare
    const packageDir = stampedPackage();
    tempDirs.push(path.dirname(packageDir));

    // Act
    const resolved = resolveReportValidator(path.join(packageDir, 'dist', 'report-validator.js'));

    // Assess
    expect(resolved.source).toBe('standalone');
    expect(resolved.validate(validReport())).toBe(true);
  });

  it('gives the same verdicts and errors as the compiled validator', () => {
    // Prepare
    const packageDir = stampedPackage();
    tempDirs.push(path.dirname(packageDir));
    const standalone = resolveReportValidator(path.join(packageDir, 'dist', 'report-validator.js')).validate;
    const compiled = compileReportValidator();
    const samples: unknown[] = [
      fullReport(),
      {},
      mutated((r) => (r.items[0].severity = 'severe')),
      mutated((r) => {
        r.meta.timestamp = '2025-13-40T99:00:00Z';
        r.items[1].evidence[0].extra = true;
        delete r.meta.ledger;
      }),
    ];

    // Act / Assess
    for (const sample of samples) {
      expect(standalone(sample)).toBe(compiled(sample));
      expect((standalone.errors ?? []).map(describeSchemaError)).toEqual((compiled.errors ?? []).map(describeSchemaError));
    }
  });

  it('compiles instead when the standalone validator was built from another schema', () => {
    // Prepare
    const dir = tempDirWithModules('pm-report-validate-');
    tempDirs.push(dir);
    const file = path.join(dir, 'report-validator.js');
    writeFileSync(file, `module.exports = function validate() { return true; };\nmodule.exports.schemaSha256 = "${'0'.repeat(64)}";\n`);

    // Act
    const resolved = resolveReportValidator(file);

    // Assess
    expect(resolved.source).toBe('compiled');
    expect(resolved.validate({})).toBe(false);
  });

  it('throws a DependencyError when the standalone validator cannot be loaded', () => {
    const dir = tempDirWithModules('pm-report-validate-');
    tempDirs.push(dir);
    const file = path.join(dir, 'report-validator.js');
    writeFileSync(file, 'module.exports = ;\n');
    expect(() => resolveReportValidator(file)).toThrow(DependencyError);
    expect(() => resolveReportValidator(file)).toThrow(/cannot load the generated report validator/);
  });

  it('throws a DependencyError when the standalone module is not a function', () => {
    const dir = tempDirWithModules('pm-report-validate-');
    tempDirs.push(dir);
    const file = path.join(dir, 'report-validator.js');
    writeFileSync(file, 'module.exports = { schemaSha256: "x" };\n');
    expect(() => resolveReportValidator(file)).toThrow('the generated report validator does not export a function');
  });
});

describe('reportValidatorSource', () => {
  it('reports the standalone validator exactly when a matching build output exists', () => {
    // Prepare
    const expected = resolveReportValidator(standaloneValidatorPath()).source;

    // Act / Assess
    expect(standaloneValidatorPath()).toBe(path.join(PACKAGE_DIR, 'dist', 'report-validator.js'));
    expect(reportValidatorSource()).toBe(expected);
  });
});
