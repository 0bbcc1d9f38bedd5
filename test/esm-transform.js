'use strict';
/**
 * Jest transform for ESM-only dependencies (@noble/*, used for ML-DSA-44).
 * Node 20.20 can require() them, but jest's module system runs every module
 * as CommonJS: esbuild rewrites their `import`/`export` to CommonJS first.
 * Used by jest.config.js and jest.integration.config.js for node_modules/@noble/.
 */
const { createHash } = require('node:crypto');
const esbuild = require('esbuild');

module.exports = {
  process(sourceText, sourcePath) {
    const { code, map } = esbuild.transformSync(sourceText, {
      loader: 'js',
      format: 'cjs',
      target: 'node20',
      sourcefile: sourcePath,
      sourcemap: 'external',
    });
    return { code, map };
  },
  getCacheKey(sourceText, sourcePath) {
    return createHash('sha256').update(esbuild.version).update('\0').update(sourcePath).update('\0').update(sourceText).digest('hex');
  },
};
