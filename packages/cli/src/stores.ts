import { NonceLoader, openStores, UsageError, type Stores } from '@phase-mirror/mirror-dissonance';
import type { Io } from './io';
import type { Workspace } from './workspace';

export const BACKENDS = ['embedded', 'aws'] as const;

/**
 * Opens the workspace's configured backend (`storage.backend`, or `--backend`),
 * runs `work` with it and closes it whatever happens.
 */
export async function withStores<T>(workspace: Workspace, backendFlag: string | undefined, io: Io, work: (stores: Stores) => Promise<T>): Promise<T> {
  if (backendFlag !== undefined && !(BACKENDS as readonly string[]).includes(backendFlag)) {
    throw new UsageError(`unknown backend "${backendFlag}"; use one of ${BACKENDS.join(', ')}`, { location: { flag: '--backend' } });
  }
  const storage = backendFlag === undefined ? workspace.config.storage : { ...workspace.config.storage, backend: backendFlag as Stores['backend'] };
  const stores = openStores(storage, { stateDir: workspace.stateDir, env: io.env });
  try {
    return await work(stores);
  } finally {
    stores.close();
  }
}

/**
 * The nonce loader for one command. Embedded state creates version 1 on
 * first use; in AWS mode the rotation function owns the SSM parameters, so a
 * missing version is an error there.
 */
export function nonceLoaderFor(stores: Stores, workspace: Workspace): NonceLoader {
  return new NonceLoader({
    store: stores.nonceStore,
    gracePeriodMs: workspace.config.nonce.gracePeriodMs,
    createFirstVersion: stores.backend === 'embedded',
  });
}
