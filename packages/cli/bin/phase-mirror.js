#!/usr/bin/env node
'use strict';
// Loads the bundled CLI with the V8 code cache the build wrote next to it
// (Node 20 has no module.enableCompileCache): compiling the bundle from source
// is a large share of every short invocation. A cache V8 rejects (other Node
// version) only costs the normal compile; behaviour is the same either way.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const file = path.join(__dirname, '..', 'dist', 'phase-mirror.js');
let cachedData;
try {
  cachedData = fs.readFileSync(`${file}.cache`);
} catch {
  cachedData = undefined;
}
const script = new vm.Script(Module.wrap(fs.readFileSync(file, 'utf8')), { filename: file, cachedData });
const bundle = new Module(file, module);
bundle.filename = file;
bundle.paths = Module._nodeModulePaths(path.dirname(file));
const localRequire = Module.createRequire(file);
script.runInThisContext()(bundle.exports, localRequire, bundle, file, path.dirname(file));

bundle.exports.main(process.argv).then((code) => {
  process.exitCode = code;
});
