/**
 * Which files are package manifests or lockfiles: the files that decide what
 * third-party code a repository runs, collected for the rules that govern
 * dependencies.
 */

const MANIFEST_NAMES: ReadonlySet<string> = new Set([
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'pyproject.toml',
  'Pipfile',
  'Pipfile.lock',
  'poetry.lock',
  'go.mod',
  'go.sum',
  'Cargo.toml',
  'Cargo.lock',
  'pom.xml',
  'build.gradle',
  'build.gradle.kts',
  'Gemfile',
  'Gemfile.lock',
  'composer.json',
]);

/** `requirements.txt`, `requirements-dev.txt`, `requirements_test.txt`... */
const REQUIREMENTS = /^requirements[^/]*\.txt$/;

/**
 * True when `path` (repository-relative, POSIX) names a package manifest or
 * lockfile at any depth. Names are matched exactly (case-sensitive, as the
 * package managers read them). Anything under a `node_modules` directory is
 * excluded: those are installed dependencies, not declarations.
 */
export function isManifest(path: string): boolean {
  const slash = path.lastIndexOf('/');
  const name = slash < 0 ? path : path.slice(slash + 1);
  if (!MANIFEST_NAMES.has(name) && !REQUIREMENTS.test(name)) return false;
  return !path.startsWith('node_modules/') && !path.includes('/node_modules/');
}
