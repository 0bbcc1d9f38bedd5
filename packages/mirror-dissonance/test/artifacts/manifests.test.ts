import { isManifest } from '../../src/artifacts/manifests';

describe('isManifest', () => {
  it.each([
    'package.json',
    'package-lock.json',
    'npm-shrinkwrap.json',
    'yarn.lock',
    'pnpm-lock.yaml',
    'requirements.txt',
    'requirements-dev.txt',
    'requirements_test.txt',
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
    'services/api/package.json',
    'deep/a/b/c/go.mod',
    'python/requirements/requirements.txt',
  ])('recognizes %s', (path) => {
    expect(isManifest(path)).toBe(true);
  });

  it.each([
    'node_modules/left-pad/package.json',
    'web/node_modules/react/package.json',
    'node_modules/.package-lock.json',
    'README.md',
    'package.json.bak',
    'my-package.json',
    'requirements.md',
    'requirements/dev.txt',
    'Package.json',
    'cargo.toml',
    'settings.gradle',
    'gradle.properties',
    'src/composer.json.dist',
    'dev-requirements.txt',
  ])('rejects %s', (path) => {
    expect(isManifest(path)).toBe(false);
  });
});
