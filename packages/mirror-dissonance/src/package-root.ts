import { dirname } from 'node:path';

/**
 * The core package's folder, which ships `schemas/` and the build's generated
 * `dist/` files. Resolved through the package name rather than `__dirname`, so
 * it is the same from sources (tests), from `dist/`, and from the bundled CLI.
 */
export const PACKAGE_ROOT = dirname(require.resolve('@phase-mirror/mirror-dissonance/package.json'));
