import { InputError } from '../../src/errors';
import {
  analyzeCommand,
  commandWords,
  compileJobIntents,
  DEFAULT_JOB_INTENTS,
  invokedScriptNames,
  isInertCommand,
  nestedQuantifierAt,
  normalizedAction,
  scriptBasename,
  shellCommands,
  wordsOf,
} from '../../src/rules/job-intents';
import type { CompiledJobIntent } from '../../src/rules/job-intents';
import type { JobIntent } from '../../src/types';

const COMPILED = compileJobIntents(DEFAULT_JOB_INTENTS);

function intent(name: string): CompiledJobIntent {
  const found = COMPILED.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no intent ${name}`);
  return found;
}

/** The default intents one shell command fulfils, as MD-100 decides it (patterns or script names). */
function fulfilledBy(command: string): string[] {
  const analysis = analyzeCommand(command);
  if (analysis.inert || analysis.install) return [];
  return COMPILED.filter(
    (candidate) =>
      candidate.commands.some((pattern) => pattern.test(command)) ||
      analysis.scriptNames.some((name) => candidate.claimedBy(wordsOf(name))),
  ).map((candidate) => candidate.name);
}

/** The default intents a job key or name claims. */
function claimedBy(name: string): string[] {
  const words = wordsOf(name);
  return COMPILED.filter((candidate) => candidate.claimedBy(words)).map((candidate) => candidate.name);
}

describe('wordsOf', () => {
  it.each([
    ['unit-tests', ['unit', 'tests']],
    ['runTests', ['run', 'tests']],
    ['Lint & format', ['lint', 'format']],
    ['HTTPServerTests', ['http', 'server', 'tests']],
    ['e2e_py311', ['e2e', 'py311']],
    ['E2E', ['e2e']],
    ['node20Tests', ['node20', 'tests']],
    ['CodeQL', ['code', 'ql']],
    ['Test ${{ matrix.os }} (node 20)', ['test', 'node', '20']],
    ['', []],
  ])('splits %j into its words', (text, words) => {
    expect(wordsOf(text)).toEqual(words);
  });
});

describe('DEFAULT_JOB_INTENTS', () => {
  it('declares the five intents, each with keywords, actions and commands', () => {
    expect(Object.keys(DEFAULT_JOB_INTENTS).sort()).toEqual(['build', 'deploy', 'lint', 'security', 'test']);
    for (const value of Object.values(DEFAULT_JOB_INTENTS)) {
      expect(value.keywords.length).toBeGreaterThan(0);
      expect(value.actions.length).toBeGreaterThan(0);
      expect(value.commands.length).toBeGreaterThan(0);
    }
    expect(Object.isFrozen(DEFAULT_JOB_INTENTS)).toBe(true);
  });

  it('keeps every default command linear: no repeated group contains a repetition', () => {
    for (const value of Object.values(DEFAULT_JOB_INTENTS)) {
      for (const source of value.commands) expect([source, nestedQuantifierAt(source)]).toEqual([source, -1]);
    }
  });

  it.each([
    ['test', ['test']],
    ['unit-tests', ['test']],
    ['runTests', ['test']],
    ['E2E', ['test']],
    ['Lint & format', ['lint']],
    ['typecheck', ['lint']],
    ['type-check', ['lint']],
    ['ShellCheck', ['lint']],
    ['CodeQL', ['security']],
    ['dependency-review', ['security']],
    ['secret-scan', ['security']],
    ['build', ['build']],
    ['Build & package', ['build']],
    ['deploy-staging', ['deploy']],
    ['release', ['deploy']],
    ['lint-and-test', ['lint', 'test']],
    ['latest', []],
    ['contest', []],
    ['greet', []],
    ['labeler', []],
  ])('reads the job name %j as claiming %j', (name, intents) => {
    expect(claimedBy(name)).toEqual(intents);
  });

  it.each([
    // test
    ['npm test', ['test']],
    ['npm t', ['test']],
    ['pnpm run test -- --run', ['test']],
    ['yarn test:ci', ['test']],
    ['bun test', ['test']],
    ['npx jest --ci', ['test']],
    ['npx vitest run', ['test']],
    ['mocha "test/**/*.spec.js"', ['test']],
    ['npx playwright test', ['test']],
    ['pytest -q tests/', ['test']],
    ['python3 -m pytest', ['test']],
    ['tox', ['test']],
    ['tox -e py312', ['test']],
    ['nox -s tests', ['test']],
    ['go test -race ./...', ['test']],
    ['cargo test --all-features', ['test']],
    ['mvn -B test', ['test']],
    ['./gradlew test', ['test']],
    ['make test', ['test']],
    ['dotnet test', ['test']],
    ['bundle exec rspec', ['test']],
    ['vendor/bin/phpunit', ['test']],
    ['./scripts/test.sh', ['test']],
    ['bash -c "yarn run test:unit"', ['test']],
    // lint
    ['npx eslint .', ['lint']],
    ['npx prettier --check .', ['lint']],
    ['ruff check .', ['lint']],
    ['flake8 src', ['lint']],
    ['pylint src', ['lint']],
    ['black --check .', ['lint']],
    ['golangci-lint run', ['lint']],
    ['go vet ./...', ['lint']],
    ['gofmt -l .', ['lint']],
    ['cargo clippy -- -D warnings', ['lint']],
    ['cargo fmt --check', ['lint']],
    ['bundle exec rubocop', ['lint']],
    ['shellcheck scripts/*.sh', ['lint']],
    ['hadolint Dockerfile', ['lint']],
    ['actionlint', ['lint']],
    ['npx markdownlint-cli2 "**/*.md"', ['lint']],
    ['npx tsc --noEmit', ['lint']],
    ['npm run lint', ['lint']],
    ['make lint', ['lint']],
    ['tox -e lint', ['lint']],
    ['./gradlew :app:lintDebug', ['lint']],
    // security
    ['npm audit --omit=dev', ['security']],
    ['pip-audit', ['security']],
    ['govulncheck ./...', ['security']],
    ['cargo audit', ['security']],
    ['osv-scanner -r .', ['security']],
    ['checkov -d infra', ['security']],
    ['tfsec .', ['security']],
    ['bandit -r src', ['security']],
    ['trivy image app:latest', ['security']],
    ['snyk test', ['security']],
    ['semgrep scan --config auto', ['security']],
    ['gitleaks detect', ['security']],
    ['trufflehog git file://.', ['security']],
    ['grype dir:.', ['security']],
    // build
    ['npm run build', ['build']],
    ['npx tsc', ['build']],
    ['tsc -p tsconfig.build.json', ['build']],
    ['go build ./...', ['build']],
    ['cargo build --release', ['build']],
    ['mvn package', ['test', 'build']],
    ['./gradlew build', ['test', 'build']],
    ['docker build -t app .', ['build']],
    ['docker buildx build --platform linux/amd64 .', ['build']],
    ['python -m build', ['build']],
    ['dotnet build -c Release', ['build']],
    ['make', ['build']],
    // deploy
    ['kubectl apply -f k8s/', ['deploy']],
    ['helm upgrade --install app ./chart', ['deploy']],
    ['helm install app ./chart', ['deploy']],
    ['terraform apply -auto-approve', ['deploy']],
    ['npx cdk deploy --all', ['deploy']],
    ['sam deploy --no-confirm-changeset', ['deploy']],
    ['serverless deploy --stage prod', ['deploy']],
    ['npm publish --provenance', ['deploy']],
    ['twine upload dist/*', ['deploy']],
    ['cargo publish', ['deploy']],
    ['docker push ghcr.io/acme/app', ['deploy']],
    ['gh release create v1.0.0', ['deploy']],
    ['flyctl deploy --remote-only', ['deploy']],
    ['vercel --prod', ['deploy']],
    ['./scripts/deploy.sh production', ['deploy']],
    // nothing
    ['npm ci', []],
    ['npm install --save-dev eslint', []],
    ['pip install ruff black', []],
    ['python -m pip install bandit', []],
    ['sudo apt-get install -y shellcheck', []],
    ['go install golang.org/x/vuln/cmd/govulncheck@latest', []],
    ['cargo install cargo-audit', []],
    ['echo "npm test"', []],
    ['printf "pytest\\n"', []],
    ['true', []],
    ['exit 0', []],
    ['sleep 5', []],
    ['git status', []],
    ['ls -la', []],
  ])('decides that %j fulfils %j', (command, intents) => {
    expect(fulfilledBy(command).sort()).toEqual([...intents].sort());
  });

  it.each([
    ['github/codeql-action/analyze@v3', 'security'],
    ['github/codeql-action/init@v3', 'security'],
    ['snyk/actions/node@master', 'security'],
    ['github/super-linter/slim@v7', 'lint'],
    ['github/super-linter@v5', 'lint'],
    ['docker://rhysd/actionlint:1.7.1', 'lint'],
    ['docker/build-push-action@v6', 'build'],
    ['aws-actions/amazon-ecs-deploy-task-definition@v2', 'deploy'],
    ['google-github-actions/deploy-cloudrun@v2', 'deploy'],
    ['Azure/webapps-deploy@v3', 'deploy'],
    ['pypa/gh-action-pypi-publish@release/v1', 'deploy'],
    ['cypress-io/github-action@v6', 'test'],
  ])('counts the action %j as doing %j', (uses, name) => {
    expect(intent(name).matchesAction(uses)).toBe(true);
  });

  it.each([
    ['aws-actions/configure-aws-credentials@v4', 'deploy'],
    ['aws-actions/amazon-ecr-login@v2', 'deploy'],
    ['azure/login@v2', 'deploy'],
    ['azure/setup-helm@v4', 'deploy'],
    ['actions/checkout@v4', 'test'],
    ['./.github/actions/deploy', 'deploy'],
    ['github/codeql-action@v3', 'security'],
  ])('does not count the action %j as doing %j', (uses, name) => {
    expect(intent(name).matchesAction(uses)).toBe(false);
  });
});

describe('compileJobIntents', () => {
  const valid: JobIntent = { keywords: ['docs'], actions: [], commands: ['\\bmkdocs\\b'] };

  it('returns intents sorted by name with keywords split into words', () => {
    const compiled = compileJobIntents({ zeta: valid, alpha: { ...valid, keywords: ['smoke test', 'typeCheck'] } });
    expect(compiled.map((candidate) => candidate.name)).toEqual(['alpha', 'zeta']);
    expect(compiled[0].keywords).toEqual([['smoke', 'test'], ['type', 'check']]);
    expect(compiled[0].claimedBy(wordsOf('run-smoke-test'))).toBe(true);
    expect(compiled[0].claimedBy(wordsOf('smoke'))).toBe(false);
    expect(compiled[0].matchesAction('actions/checkout@v4')).toBe(false);
  });

  it('matches commands case-insensitively', () => {
    const [compiled] = compileJobIntents({ docs: valid });
    expect(compiled.commands[0].test('MKDOCS build')).toBe(true);
  });

  it.each([
    [{ ...valid, keywords: ['--'] }, 'rules.options.jobIntents.docs.keywords[0]'],
    [{ ...valid, actions: ['ok/action', '  '] }, 'rules.options.jobIntents.docs.actions[1]'],
    [{ ...valid, commands: ['(unclosed'] }, 'rules.options.jobIntents.docs.commands[0]'],
    [{ ...valid, commands: ['ok', '(a+)+$'] }, 'rules.options.jobIntents.docs.commands[1]'],
  ])('rejects an invalid intent with a configuration error at its field (%#)', (bad, field) => {
    let caught: unknown;
    try {
      compileJobIntents({ docs: bad });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputError);
    expect((caught as InputError).code).toBe('CONFIG_INVALID');
    expect((caught as InputError).location.field).toBe(field);
  });
});

describe('nestedQuantifierAt', () => {
  it.each([
    ['(a+)+', 4],
    ['(?:x*y){2,}', 7],
    ['((ab)*c)+', 8],
    ['(a{1,3})*', 8],
    ['(?:\\s+\\w)*$', 9],
  ])('finds the repetition of a repeating group in %j', (source, offset) => {
    expect(nestedQuantifierAt(source)).toBe(offset);
  });

  it.each([
    '\\bnpm\\s+(?:run\\s+)?test\\b',
    '(?:a|b)+',
    '(ab){3}',
    '[(+]+x*',
    '\\(+a+\\)+',
    '\\p{L}+(?:x)*',
    '(?<name>a)\\k<name>+',
    'a{2,}?b',
    'x{,3}',
    '(?:a+)?',
    'unbalanced)+',
  ])('accepts %j', (source) => {
    expect(nestedQuantifierAt(source)).toBe(-1);
  });
});

describe('normalizedAction', () => {
  it.each([
    ['actions/checkout@v4', 'actions/checkout'],
    ['github/codeql-action/analyze@v3', 'github/codeql-action/analyze'],
    ['owner/action', 'owner/action'],
    ['docker://rhysd/actionlint:1.7.1', 'rhysd/actionlint'],
    ['docker://ghcr.io/super-linter/super-linter:slim-v7', 'super-linter/super-linter'],
    ['docker://localhost/tool@sha256:abc', 'tool'],
    ['docker://alpine:3.20', 'alpine'],
  ])('reads %j as %j', (uses, action) => {
    expect(normalizedAction(uses)).toBe(action);
  });

  it('leaves local actions to be judged by name', () => {
    expect(normalizedAction('./.github/actions/run-tests')).toBeUndefined();
    expect(normalizedAction('../shared/action')).toBeUndefined();
  });
});

describe('shellCommands', () => {
  it('splits commands at operators outside quotes and keeps their script lines', () => {
    // Prepare
    const script = [
      'npm ci && npm test || exit 1',
      'echo "a; b | c" ; make lint',
      'ls 2>&1 | tee out.log &',
      '',
      '# full-line comment',
      "grep -q 'x#y' file # trailing comment",
    ].join('\n');
    // Act
    const commands = shellCommands(script);
    // Assess
    expect(commands.map((command) => [command.text, command.lineAt(0)])).toEqual([
      ['npm ci', 0],
      ['npm test', 0],
      ['exit 1', 0],
      ['echo "a; b | c"', 1],
      ['make lint', 1],
      ['ls 2>&1', 2],
      ['tee out.log', 2],
      ["grep -q 'x#y' file", 5],
    ]);
  });

  it('joins continuation lines and maps offsets back to each physical line', () => {
    const script = 'npx serverless deploy \\\n  --stage prod \\\n  --verbose\nnpm test';
    const [deploy, test] = shellCommands(script);
    expect(deploy.text).toBe('npx serverless deploy    --stage prod    --verbose');
    expect(deploy.lineAt(0)).toBe(0);
    expect(deploy.lineAt(deploy.text.indexOf('prod'))).toBe(1);
    expect(deploy.lineAt(deploy.text.indexOf('--verbose'))).toBe(2);
    expect([test.text, test.lineAt(0)]).toEqual(['npm test', 3]);
  });

  it('keeps # that does not start a word, including escaped and quoted ones', () => {
    const commands = shellCommands('curl https://example.com/#top \\#x "#y" # gone');
    expect(commands.map((command) => command.text)).toEqual(['curl https://example.com/#top \\#x "#y"']);
    expect(shellCommands('curl https://example.com/#top')[0].text).toBe('curl https://example.com/#top');
  });

  it('handles escapes and a trailing continuation on the last line', () => {
    const commands = shellCommands('echo a\\;b "q\\"x;y" && true \\');
    expect(commands.map((command) => command.text)).toEqual(['echo a\\;b "q\\"x;y"', 'true']);
  });
});

describe('command analysis', () => {
  it.each([
    ['echo ok', true],
    ['  printf "%s" x', true],
    ['FOO=1 echo $FOO', true],
    ['(', true],
    ['npm test', false],
    ['sudo -E ./run.sh', false],
  ])('reads %j as inert=%j', (command, inert) => {
    expect(isInertCommand(command)).toBe(inert);
  });

  it.each([
    ['npm run test:unit -- --coverage', ['test:unit']],
    ['npm run-script lint', ['lint']],
    ['npm t', ['test']],
    ['npm start', ['start']],
    ['npm run', []],
    ['npm exec -- eslint .', []],
    ['npm x vitest', []],
    ['npm version patch', []],
    ['yarn lint', ['lint']],
    ['yarn workspace web test', ['test']],
    ['yarn dlx turbo run build', ['run', 'build']],
    ['pnpm --filter @acme/web build', ['build']],
    ['pnpm -r run test', ['test']],
    ['bun run scripts/build.ts', ['build']],
    ['bun', []],
    ['composer test', ['test']],
    ['deno task check', ['check']],
    ['deno task', []],
    ['cargo make ci-flow', ['ci-flow']],
    ['cargo xtask dist', ['dist']],
    ['make -C sub -j4 lint test', ['lint', 'test']],
    ['just e2e', ['e2e']],
    ['./gradlew :app:lintDebug --stacktrace', [':app:lintDebug']],
    ['mvn -P security -B verify', ['verify']],
    ['npx turbo run build --filter=web', ['run', 'build']],
    ['tox -e lint,type', ['lint', 'type']],
    ['tox --env=py312', ['py312']],
    ['nox -s tests-3.12', ['tests-3.12']],
    ['python -m scripts.lint', ['scripts.lint']],
    ['python tools/check_security.py --strict', ['check_security']],
    ['bash ci/run-lint.sh', ['run-lint']],
    ['sh -c "make test && npm run build"', ['test', 'build']],
    ['node build.mjs', ['build']],
    ['node -e "console.log(1)"', []],
    ['go run ./cmd/lint/', ['lint']],
    ['go test ./...', []],
    ['./scripts/test.sh integration', ['test']],
    ['env CI=1 bin/deploy', ['deploy']],
    ['gradlew.bat lintDebug', ['lintDebug']],
    ['C:/tools/make.EXE lint', ['lint']],
    ['pwsh ./build/Publish.ps1', ['Publish']],
    ['git status', []],
  ])('finds the scripts invoked by %j', (command, names) => {
    expect(invokedScriptNames(command)).toEqual(names);
  });

  it('marks installs and does not read their script names', () => {
    expect(analyzeCommand('yarn')).toEqual({ inert: false, install: true, scriptNames: [] });
    expect(analyzeCommand('npm')).toEqual({ inert: false, install: false, scriptNames: [] });
    expect(analyzeCommand('uv pip install -r requirements.txt').install).toBe(true);
    expect(analyzeCommand('cargo install --path .').install).toBe(false);
    expect(analyzeCommand('go install ./cmd/app').install).toBe(false);
    expect(analyzeCommand('echo hi')).toEqual({ inert: true, install: false, scriptNames: [] });
  });

  it('splits command words on whitespace and removes quotes', () => {
    expect(commandWords(`a "b c"'d' "" e\tf`)).toEqual(['a', 'b cd', '', 'e', 'f']);
  });

  it.each([
    ['scripts/test.sh', 'test'],
    ['./cmd/lint/', 'lint'],
    ['deploy', 'deploy'],
    ['.env', '.env'],
    ['ci/run.lint.sh', 'run.lint'],
  ])('takes the basename of %j as %j', (path, base) => {
    expect(scriptBasename(path)).toBe(base);
  });
});
