/**
 * The epoch-sealer Lambda handler on the emulator: DynamoDB ledger tables
 * created from the shared definitions, an ECC_NIST_P256 KMS key, 250 blocks
 * in one stream ⇒ two sealed epochs that verify offline with only the public
 * key; a second run seals nothing new.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  appendDecision,
  DynamoLedgerStore,
  KmsEcdsaSigner,
  verifyEpochs,
} from '@phase-mirror/mirror-dissonance';
import { sealFromEnvironment } from '../../lambdas/epoch-sealer/handler';
import { emulatorEndpoint, useSuiteTables } from '../../packages/mirror-dissonance/test/integration/tables';
import { reportWithSnippets } from '../../packages/mirror-dissonance/test/nonce/reports';

const region = process.env.AWS_REGION || 'us-east-1';
const tables = useSuiteTables('sealer');
let keyId: string;
let output = '';
const restores: (() => void)[] = [];

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array) => {
      output += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      return true;
    }) as typeof stream.write;
    restores.push(() => (stream.write = original));
  }
  const kms = new KMSClient({ endpoint: emulatorEndpoint(), region });
  keyId = (await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Description: 'epoch sealer test' }))).KeyMetadata!.KeyId!;
  kms.destroy();
});

afterAll(() => {
  for (const restore of restores) restore();
});

describe('the epoch-sealer Lambda handler on the emulator', () => {
  it('seals every complete epoch with the KMS key; the epochs verify offline with only the public key', async () => {
    // Prepare: 250 decisions in one stream (epochs of 100: two complete)
    const ledger = new DynamoLedgerStore({ client: tables.documents, tableName: tables.names.ledger, epochsTableName: tables.names.ledgerEpochs });
    for (let i = 0; i < 250; i++) {
      await appendDecision(ledger, { report: reportWithSnippets([]), repository: 'acme/sealed', mode: 'pull_request', commit: `c${i}` });
    }
    const env = {
      AWS_REGION: region,
      PHASE_MIRROR_STAGE: 'test',
      LEDGER_TABLE: tables.names.ledger,
      LEDGER_EPOCHS_TABLE: tables.names.ledgerEpochs,
      EPOCH_SIGNING_KEY_ID: keyId,
    };

    // Act
    const first = await sealFromEnvironment({ source: 'aws.scheduler' }, env);
    const second = await sealFromEnvironment({ source: 'aws.scheduler' }, env);

    // Assess
    expect(first.sealed.map((e) => [e.number, e.startHeight, e.endHeight])).toEqual([
      [0, 0, 99],
      [1, 100, 199],
    ]);
    expect(second.sealed).toEqual([]);
    const publicKey = await new KmsEcdsaSigner({ keyId, aws: { region, endpoint: emulatorEndpoint() } }).publicKey();
    const verified = await verifyEpochs(ledger, [{ ...publicKey, spki: Buffer.from(publicKey.spki) }]);
    expect(verified.map((v) => v.ok)).toEqual([true, true]);
    expect(output).toMatch(/"EpochsSealed":2/);
  }, 120_000);

  it('fails and counts the failure when the signing key is missing', async () => {
    const env = { AWS_REGION: region, PHASE_MIRROR_STAGE: 'test', LEDGER_TABLE: tables.names.ledger, LEDGER_EPOCHS_TABLE: tables.names.ledgerEpochs };
    await expect(sealFromEnvironment({}, env)).rejects.toMatchObject({ message: expect.stringContaining('EPOCH_SIGNING_KEY_ID') });
    expect(output).toMatch(/"EpochSealFailure":1/);
  });
});
