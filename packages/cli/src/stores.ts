import { NonceLoader, openNonceStore, openStores, UsageError, type NonceSecretStore, type Stores } from '@phase-mirror/mirror-dissonance';
import type { Io } from './io';
import type { Workspace } from './workspace';

export const BACKENDS = ['embedded', 'aws'] as const;

/**
 * Opens the workspace's configured backend (`storage.backend`, or `--backend`),
 * runs `work` with it and closes it whatever happens.
 */
export async function withStores<T>(workspace: Workspace, backendFlag: string | undefined, io: Io, work: (stores: Stores) => Promise<T>): Promise<T> {
  const stores = openStores(storageFor(workspace, backendFlag), { stateDir: workspace.stateDir, env: io.env });
  try {
    return await work(stores);
  } finally {
    stores.close();
  }
}

/** The workspace's storage configuration with `--backend` applied. */
function storageFor(workspace: Workspace, backendFlag: string | undefined): Workspace['config']['storage'] {
  if (backendFlag !== undefined && !(BACKENDS as readonly string[]).includes(backendFlag)) {
    throw new UsageError(`unknown backend "${backendFlag}"; use one of ${BACKENDS.join(', ')}`, { location: { flag: '--backend' } });
  }
  return backendFlag === undefined ? workspace.config.storage : { ...workspace.config.storage, backend: backendFlag as Stores['backend'] };
}

/** The backend in force: `--backend` (checked) or `storage.backend`. */
export function backendFor(workspace: Workspace, backendFlag: string | undefined): Stores['backend'] {
  return storageFor(workspace, backendFlag).backend;
}

/** The configured nonce store alone (no state database is opened or created). */
export function nonceStoreFor(workspace: Workspace, backendFlag: string | undefined, io: Io): { store: NonceSecretStore; backend: Stores['backend'] } {
  const storage = storageFor(workspace, backendFlag);
  return { store: openNonceStore(storage, { stateDir: workspace.stateDir, env: io.env }), backend: storage.backend };
}

/**
 * The nonce loader for one command. Embedded state creates version 1 on
 * first use; in AWS mode the rotation function owns the SSM parameters, so a
 * missing version is an error there.
 */
export function nonceLoaderFor(store: NonceSecretStore, backend: Stores['backend'], workspace: Workspace): NonceLoader {
  return new NonceLoader({
    store,
    gracePeriodMs: workspace.config.nonce.gracePeriodMs,
    createFirstVersion: backend === 'embedded',
  });
}
