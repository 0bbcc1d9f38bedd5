/**
 * Embedded adapter of the nonce secret store: one owner-only file per
 * version, `<stateDir>/redaction_nonce_v<N>` (0600 in a 0700 folder), written
 * once through a private temporary file and a hard link, so a version is never
 * overwritten and concurrent writers agree (DESIGN §8).
 *
 * The single-file layout of earlier releases (`<stateDir>/nonce`) is adopted
 * as version 1 the first time the folder is listed: hard-linked to
 * `redaction_nonce_v1`, then the old name removed, so reports branded with it
 * keep verifying.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DependencyError } from '../errors';
import { publishOwnerOnlySecret, readOwnerOnlySecret, type OwnerOnlySecret } from '../secrets/owner-only-secret';
import { assertNonceVersion, NONCE_NAME_PREFIX, nonceVersionOf, type NonceSecretStore, type NonceVersionInfo } from './store';

/** The pre-versioning file name of the embedded nonce. */
export const LEGACY_NONCE_FILE = 'nonce';

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

export class FileNonceStore implements NonceSecretStore {
  readonly location: string;

  constructor(private readonly stateDir: string) {
    this.location = path.join(stateDir, `${NONCE_NAME_PREFIX}*`);
  }

  async listVersions(): Promise<NonceVersionInfo[]> {
    this.adoptLegacyNonce();
    let names: string[];
    try {
      names = fs.readdirSync(this.stateDir);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return [];
      throw this.failure(`cannot list the redaction nonce versions in ${this.stateDir}`, this.stateDir, error);
    }
    const versions: NonceVersionInfo[] = [];
    for (const name of names) {
      const version = nonceVersionOf(name);
      if (version === undefined || name !== `${NONCE_NAME_PREFIX}${version}`) continue;
      const file = path.join(this.stateDir, name);
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(file);
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') continue; // deleted by a concurrent rotation
        throw this.failure(`cannot read the redaction nonce file ${file}`, file, error);
      }
      versions.push({ version, name: file, createdAt: stat.mtime });
    }
    return versions.sort((a, b) => a.version - b.version);
  }

  async readValue(version: NonceVersionInfo): Promise<string | undefined> {
    try {
      return readOwnerOnlySecret(this.spec(version.version));
    } catch (error) {
      // Gone when opened: deleted by a rotation after it was listed. Decided by
      // the open itself (no separate existence check to race with), and only
      // for ENOENT: a dangling link or an unsearchable folder still fails closed.
      if (error instanceof DependencyError && errnoCode(error.cause) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async create(version: number, value: string): Promise<'created' | 'exists'> {
    assertNonceVersion(version);
    try {
      fs.mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw this.failure(`cannot create state directory ${this.stateDir} for the redaction nonce`, this.stateDir, error);
    }
    return publishOwnerOnlySecret(this.spec(version), value);
  }

  async delete(version: NonceVersionInfo): Promise<'deleted' | 'absent'> {
    try {
      fs.unlinkSync(version.name);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') return 'absent';
      throw this.failure(`cannot delete the redaction nonce file ${version.name}`, version.name, error);
    }
    return 'deleted';
  }

  private spec(version: number): OwnerOnlySecret {
    return {
      stateDir: this.stateDir,
      fileName: `${NONCE_NAME_PREFIX}${version}`,
      label: `redaction nonce version ${version}`,
      code: 'NONCE_UNAVAILABLE',
      context: { nonce_version: version },
      corruptAdvice: 'restore it, or delete it and run `phase-mirror nonce rotate` (reports branded with it will no longer verify)',
    };
  }

  /** Moves `<stateDir>/nonce` to `redaction_nonce_v1` (same inode, so the value cannot change). */
  private adoptLegacyNonce(): void {
    const legacy = path.join(this.stateDir, LEGACY_NONCE_FILE);
    if (!fs.existsSync(legacy)) return;
    // Validates the legacy file (mode, format, not a link) before adopting it.
    readOwnerOnlySecret({ ...this.spec(1), fileName: LEGACY_NONCE_FILE, label: 'redaction nonce (pre-versioning file)' });
    try {
      fs.linkSync(legacy, path.join(this.stateDir, `${NONCE_NAME_PREFIX}1`));
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw this.failure(`cannot adopt ${legacy} as version 1`, legacy, error);
      // v1 exists: adopted by a concurrent run (same inode) or created since; keep the legacy file if it differs.
      const adopted = fs.statSync(path.join(this.stateDir, `${NONCE_NAME_PREFIX}1`));
      if (adopted.ino !== fs.statSync(legacy).ino) {
        throw this.failure(
          `both ${legacy} and ${NONCE_NAME_PREFIX}1 exist with different contents; keep the one your reports were branded with and delete the other`,
          legacy,
        );
      }
    }
    try {
      fs.unlinkSync(legacy);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw this.failure(`cannot remove ${legacy} after adopting it as version 1`, legacy, error);
    }
  }

  private failure(message: string, file: string, cause?: unknown): DependencyError {
    return new DependencyError('NONCE_UNAVAILABLE', message, {
      location: { file },
      context: { file },
      ...(cause === undefined ? {} : { cause }),
    });
  }
}
