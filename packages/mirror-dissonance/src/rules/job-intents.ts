/**
 * Job intents: what a CI job claims to do by its name (test, lint, security,
 * build, deploy) and what it must run to do it. MD-100 compares the claim
 * with the steps. This module holds the default vocabulary, compiles intents
 * (default or configured) once per evaluation, and reads shell scripts into
 * commands so a claim can be checked against what really runs.
 *
 * How a job fulfils an intent (any one step suffices):
 * - a `uses:` action matching one of the intent's `actions` globs
 *   (picomatch, case-insensitive, against `owner/name[/path]` without
 *   `@ref`; `docker://` images are matched without registry and tag);
 * - a local action (`uses: ./...`) whose directory name claims the intent
 *   (`./.github/actions/run-tests`): it is the repository's own script;
 * - a shell command (from `run:`, or from a command-like `with:` input such
 *   as `script`, `command`, `args`) matching one of the intent's `commands`;
 * - a shell command that invokes a script or task whose *name* claims the
 *   intent by the same keyword rule as job names: package-manager scripts
 *   (`npm run test:unit`, `yarn lint`, `pnpm --filter web build`), task
 *   runners' targets (`make lint`, `just test`, `gradle lintDebug`,
 *   `turbo run build`, `tox -e lint`, `nox -s tests`), and script files
 *   (`./scripts/test.sh`, `bash ci/run-lint.sh`, `python tools/deploy.py`).
 *   The name is the script, target or file basename without extension,
 *   split into words; so `./scripts/test.sh` claims `test` and `make lint`
 *   claims `lint`, for custom intents too. The script itself is not read.
 * `echo`/`printf` commands and shell comments never count.
 */
import picomatch from 'picomatch';
import { InputError } from '../errors';
import type { JobIntent } from '../types';

/* ------------------------------------------------------------------ */
/* Words                                                              */
/* ------------------------------------------------------------------ */

const EXPRESSION = /\$\{\{[\s\S]*?\}\}/g;

const enum CharKind {
  Other,
  Lower,
  Upper,
  Digit,
}

function charKind(code: number): CharKind {
  if (code >= 0x61 && code <= 0x7a) return CharKind.Lower;
  if (code >= 0x41 && code <= 0x5a) return CharKind.Upper;
  if (code >= 0x30 && code <= 0x39) return CharKind.Digit;
  return CharKind.Other;
}

/**
 * The lower-case words of a job key, job name, script or task name: `${{ }}`
 * expressions removed, split on non-alphanumerics and camelCase boundaries
 * (`runUnitTests` ⇒ run, unit, tests; `HTTPTests` ⇒ http, tests;
 * `node20Tests` ⇒ node20, tests). Digits stay inside their word, so `e2e`,
 * `E2E` and `py311` are one word each.
 */
export function wordsOf(text: string): string[] {
  const source = text.includes('${{') ? text.replace(EXPRESSION, ' ') : text;
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i <= source.length; i++) {
    const kind = i < source.length ? charKind(source.charCodeAt(i)) : CharKind.Other;
    if (kind === CharKind.Other) {
      if (start !== -1) words.push(source.slice(start, i).toLowerCase());
      start = -1;
      continue;
    }
    if (start === -1) {
      start = i;
      continue;
    }
    const previous = charKind(source.charCodeAt(i - 1));
    const next = i + 1 < source.length ? charKind(source.charCodeAt(i + 1)) : CharKind.Other;
    const camel =
      kind === CharKind.Upper && (previous === CharKind.Lower || (previous === CharKind.Digit && next === CharKind.Lower));
    const acronymEnd = kind === CharKind.Upper && previous === CharKind.Upper && next === CharKind.Lower;
    if (camel || acronymEnd) {
      words.push(source.slice(start, i).toLowerCase());
      start = i;
    }
  }
  return words;
}

/**
 * Whether consecutive entries of `words` spell `keyword` (its words joined):
 * `unit`,`tests` spell `tests`... only whole words count, so `latest` does
 * not spell `test`, while `code`,`ql` (from `CodeQL`) spells `codeql` and
 * `type`,`check` spells `typecheck`.
 */
function spells(words: readonly string[], keyword: string): boolean {
  for (let i = 0; i < words.length; i++) {
    let joined = '';
    for (let j = i; j < words.length; j++) {
      joined += words[j];
      if (joined === keyword) return true;
      if (!keyword.startsWith(joined)) break;
    }
  }
  return false;
}

/* ------------------------------------------------------------------ */
/* Defaults                                                           */
/* ------------------------------------------------------------------ */

const PM = '(?:npm|pnpm|yarn|bun)';
const PY = 'python(?:\\d(?:\\.\\d+)?)?';

/**
 * What the common CI intents must do. Keywords are whole words of a job key
 * or name; actions are `owner/name[/path]` globs; commands are regular
 * expression sources (case-insensitive, each tested against one shell
 * command) kept linear: no quantified group contains a quantifier.
 */
export const DEFAULT_JOB_INTENTS: Readonly<Record<string, JobIntent>> = Object.freeze({
  test: {
    keywords: ['test', 'tests', 'testing', 'unittest', 'unittests', 'e2e', 'pytest', 'jest', 'vitest', 'rspec', 'phpunit'],
    actions: [
      'cypress-io/github-action',
      'microsoft/playwright-github-action',
      'php-actions/phpunit',
      'reactivecircus/android-emulator-runner',
    ],
    commands: [
      `\\b${PM}\\s+(?:run\\s+)?test\\b`,
      '\\bnpm\\s+(?:t|tst)(?:\\s|$)',
      '\\b(?:jest|vitest|mocha|karma|jasmine|nyc|c8|ava)\\b',
      '\\bplaywright\\s+test\\b',
      '\\bcypress\\s+run\\b',
      '\\bnode\\s+--test\\b',
      '\\bpy\\.?test\\b',
      `\\b${PY}\\s+-m\\s+(?:pytest|unittest|nose2?)\\b`,
      '\\b(?:tox|nox)\\s*$',
      '\\btox\\b.*\\s-e\\s*\\S*(?:py\\d|test|unit)',
      '\\bgo\\s+test\\b',
      '\\b(?:gotestsum|ginkgo)\\b',
      '\\bcargo\\s+(?:test|nextest|tarpaulin|llvm-cov)\\b',
      '\\bmvnw?(?:\\.cmd)?\\b.*\\b(?:test|verify|install|package|integration-test)\\b',
      '\\bgradlew?(?:\\.bat)?\\b.*\\b(?:test|check|build|\\w+Test)\\b',
      '\\bmake\\b.*\\s(?:check|test\\S*)\\s*$',
      '\\bdotnet\\s+test\\b',
      '\\bvstest\\.console\\b',
      '\\b(?:rspec|cucumber)\\b',
      '\\b(?:rake|rails)\\s+(?:test|spec)\\b',
      '\\b(?:phpunit|pest|paratest)\\b',
      '\\bcodecept\\s+run\\b',
      '\\b(?:swift|dart|flutter|mix|deno|stack|cabal)\\s+test\\b',
      '\\bctest\\b',
      '\\bbazel(?:isk)?\\s+(?:test|coverage)\\b',
      '\\bxcodebuild\\b.*\\btest\\b',
      '\\bsbt\\b.*\\btest\\b',
      '\\bbats\\b',
    ],
  },
  lint: {
    keywords: [
      'lint', 'lints', 'linter', 'linters', 'linting', 'format', 'formatting', 'fmt', 'style', 'codestyle',
      'typecheck', 'eslint', 'prettier', 'stylelint', 'ruff', 'flake8', 'pylint', 'black', 'mypy', 'clippy',
      'rubocop', 'shellcheck', 'hadolint', 'actionlint', 'markdownlint', 'golangci',
    ],
    actions: [
      'github/super-linter/**',
      'super-linter/super-linter/**',
      'oxsecurity/megalinter/**',
      'wearerequired/lint-action',
      'golangci/golangci-lint-action',
      'reviewdog/*',
      'pre-commit/action',
      'DavidAnson/markdownlint-cli2-action',
      'ludeeus/action-shellcheck',
      'hadolint/hadolint-action',
      'rhysd/actionlint',
      'raven-actions/actionlint',
      'devops-actions/actionlint',
      'psf/black',
      'chartboost/ruff-action',
      'astral-sh/ruff-action',
      'jpetrucciani/ruff-check',
      'creyD/prettier_action',
      'actionsx/prettier',
      'dprint/check',
      'trunk-io/trunk-action',
      'jidicula/clang-format-action',
      'editorconfig-checker/action-editorconfig-checker',
      'crate-ci/typos',
      'actions-rust-lang/rustfmt',
      'actions-rs/clippy-check',
      'dominikh/staticcheck-action',
      'errata-ai/vale-action',
    ],
    commands: [
      '\\b(?:eslint|prettier|stylelint|biome|dprint|oxlint|tslint|jshint|jsonlint|yamllint|commitlint|htmlhint|lint-staged)\\b',
      '\\bmarkdownlint(?:-cli2?)?\\b',
      '\\b(?:editorconfig-checker|typos|codespell|vale)\\b',
      '\\btsc\\b.*--noEmit\\b',
      '\\b(?:ruff|flake8|pylint|black|isort|mypy|pyright|pytype|pycodestyle|pydocstyle|autopep8|yapf|pyflakes|prospector|pre-commit)\\b',
      '\\bgolangci-lint\\b',
      '\\bgo\\s+(?:vet|fmt)\\b',
      '\\b(?:gofmt|goimports|gofumpt|staticcheck|revive)\\b',
      '\\bcargo\\s+(?:clippy|fmt)\\b',
      '\\brustfmt\\b',
      '\\b(?:rubocop|standardrb|erb_lint|erblint|reek)\\b',
      '\\b(?:shellcheck|shfmt|hadolint|actionlint)\\b',
      '\\b(?:phpcs|php-cs-fixer|phpstan|psalm|phpmd)\\b',
      '\\b(?:checkstyle|spotless\\w*|ktlint|detekt|spotbugs)\\b',
      '\\bdotnet\\s+format\\b',
      '\\b(?:swiftlint|swiftformat|clang-format|clang-tidy|cpplint|tflint|sqlfluff|credo|hlint|ormolu)\\b',
      '\\bterraform\\s+(?:fmt|validate)\\b',
      '\\bhelm\\s+lint\\b',
      '\\bbuf\\s+(?:lint|format)\\b',
      '\\b(?:dart|flutter)\\s+(?:analyze|format)\\b',
      '\\bmix\\s+(?:format|credo)\\b',
      '\\bdeno\\s+(?:lint|fmt|check)\\b',
    ],
  },
  security: {
    keywords: [
      'security', 'sec', 'secure', 'scan', 'scans', 'scanning', 'scanner', 'sast', 'dast', 'sca', 'codeql',
      'vulnerability', 'vulnerabilities', 'vuln', 'vulns', 'audit', 'trivy', 'snyk', 'semgrep', 'gitleaks',
      'trufflehog', 'scorecard', 'scorecards', 'dependency review', 'osv', 'bandit', 'grype', 'gosec',
    ],
    actions: [
      'github/codeql-action/*',
      'aquasecurity/trivy-action',
      'aquasecurity/tfsec-action',
      'aquasecurity/tfsec-sarif-action',
      'snyk/actions/**',
      'returntocorp/semgrep-action',
      'semgrep/semgrep-action',
      'gitleaks/gitleaks-action',
      'trufflesecurity/trufflehog',
      'anchore/scan-action',
      'ossf/scorecard-action',
      'actions/dependency-review-action',
      'google/osv-scanner-action/**',
      'bridgecrewio/checkov-action',
      'securego/gosec',
      'golang/govulncheck-action',
      'pypa/gh-action-pip-audit',
      'rustsec/audit-check',
      'actions-rs/audit-check',
      'zaproxy/action-*',
      'sonarsource/sonarcloud-github-action',
      'sonarsource/sonarqube-scan-action',
      'docker/scout-action',
      'microsoft/security-devops-action',
      'PyCQA/bandit-action',
      'stackhawk/hawkscan-action',
      'crazy-max/ghaction-container-scan',
      'fossas/fossa-action',
    ],
    commands: [
      `\\b${PM}\\s+audit\\b`,
      '\\bcomposer\\s+audit\\b',
      '\\b(?:pip-audit|govulncheck|gosec|osv-scanner|trivy|grype|semgrep|gitleaks|trufflehog|checkov|tfsec|terrascan|kics|bandit|brakeman|ggshield|detect-secrets|horusec|nancy|retire)\\b',
      '\\bsafety\\s+(?:check|scan)\\b',
      '\\bcargo\\s+(?:audit|deny)\\b',
      '\\bsnyk\\s+(?:test|monitor|code|container|iac)\\b',
      '\\bbundle[-\\s]audit\\b',
      '\\bcodeql\\s+(?:database|github)\\b',
      '\\bdependency-check\\b',
      '\\bdocker\\s+scout\\b',
      '\\bdotnet\\s+list\\b.*--vulnerable\\b',
      '\\bscorecard\\b',
    ],
  },
  build: {
    keywords: ['build', 'builds', 'building', 'compile', 'compiling', 'package', 'packaging', 'bundle', 'dist', 'assemble'],
    actions: [
      'docker/build-push-action',
      'docker/bake-action',
      'redhat-actions/buildah-build',
      'redhat-actions/s2i-build',
      'pypa/cibuildwheel',
      'PyO3/maturin-action',
      'goreleaser/goreleaser-action',
      'actions/jekyll-build-pages',
      'withastro/action',
      'tauri-apps/tauri-action',
      'gradle/gradle-build-action',
    ],
    commands: [
      `\\b${PM}\\s+(?:run\\s+)?build\\b`,
      '\\btsc\\b(?!.*--noEmit)',
      '\\b(?:webpack|rollup|esbuild|tsup|ncc)\\b',
      '\\b(?:vite|parcel|next|nuxt|ng|astro|remix|svelte-kit)\\s+build\\b',
      '\\bgo\\s+(?:build|install)\\b',
      '\\b(?:goreleaser|cibuildwheel)\\b',
      '\\bko\\s+build\\b',
      '\\bcargo\\s+(?:build|check|zigbuild)\\b',
      '\\bcargo\\s+install\\b.*\\s--path\\b',
      `\\b${PM}\\s+pack\\b`,
      '\\b(?:maturin|wasm-pack)\\s+build\\b',
      '\\bmvnw?(?:\\.cmd)?\\b.*\\b(?:package|install|compile|verify|deploy)\\b',
      '\\bgradlew?(?:\\.bat)?\\b.*\\b(?:build|assemble\\w*|jar|bootJar|shadowJar|compile\\w*)\\b',
      '\\b(?:docker|podman)\\s+(?:build|buildx\\s+build|buildx\\s+bake|compose\\s+build|image\\s+build)\\b',
      '\\bdocker-compose\\s+build\\b',
      '\\bbuildah\\s+(?:bud|build)\\b',
      '\\b(?:kaniko|executor)\\b.*--destination\\b',
      '\\bpack\\s+build\\b',
      '\\bbazel(?:isk)?\\s+build\\b',
      `\\b${PY}\\s+-m\\s+build\\b`,
      `\\b${PY}\\s+setup\\.py\\s+(?:build|sdist|bdist\\w*)\\b`,
      '\\b(?:poetry|hatch|pdm|uv|flit|rye)\\s+build\\b',
      '\\bpip\\s+wheel\\b',
      '\\bdotnet\\s+(?:build|publish|pack|msbuild)\\b',
      '\\bmsbuild\\b',
      '\\bcmake\\b.*--build\\b',
      '\\b(?:make|gmake|ninja)\\b(?:\\s+-\\S+)?(?:\\s+(?:all|install|release|dist))?\\s*$',
      '\\b(?:swift|zig|stack|cabal|nix|packer|jekyll|mkdocs|flutter)\\s+build\\b',
      '\\bxcodebuild\\b',
      '\\b(?:dart|deno)\\s+compile\\b',
      '\\bmix\\s+(?:compile|release)\\b',
      '\\bsphinx-build\\b',
      '\\bhugo\\b',
      '\\bsbt\\b.*\\b(?:compile|package|assembly)\\b',
    ],
  },
  deploy: {
    keywords: [
      'deploy', 'deploys', 'deployment', 'deployments', 'deploying', 'release', 'releases', 'releasing',
      'publish', 'publishing', 'ship', 'rollout', 'promote',
    ],
    actions: [
      'aws-actions/!(configure-aws-credentials|amazon-ecr-login|amazon-ecs-render-task-definition|aws-secretsmanager-get-secrets|setup-*)',
      'google-github-actions/deploy-*',
      'google-github-actions/release-please-action',
      'googleapis/release-please-action',
      'azure/!(login|cli|powershell|setup-*|*-set-context|docker-login|get-keyvault-secrets|k8s-bake|k8s-create-secret|k8s-lint|container-scan|use-kubelogin)',
      'actions/deploy-pages',
      'peaceiris/actions-gh-pages',
      'JamesIves/github-pages-deploy-action',
      'softprops/action-gh-release',
      'ncipollo/release-action',
      'actions/create-release',
      'actions/upload-release-asset',
      'svenstaro/upload-release-action',
      'marvinpinto/action-automatic-releases',
      'release-drafter/release-drafter',
      'changesets/action',
      'cloudflare/wrangler-action',
      'cloudflare/pages-action',
      'pypa/gh-action-pypi-publish',
      'amondnet/vercel-action',
      'nwtgck/actions-netlify',
      'superfly/flyctl-actions',
      'akhileshns/heroku-deploy',
      'burnett01/rsync-deployments',
      'easingthemes/ssh-deploy',
      'SamKirkland/FTP-Deploy-Action',
      'helm/chart-releaser-action',
      'docker/build-push-action',
      'goreleaser/goreleaser-action',
      'pulumi/actions',
      'dflook/terraform-apply',
      'serverless/github-action',
      'FirebaseExtended/action-hosting-deploy',
      'w9jds/firebase-action',
      'digitalocean/app_action',
      'JS-DevTools/npm-publish',
      'cycjimmy/semantic-release-action',
      'codfish/semantic-release-action',
    ],
    commands: [
      '\\bkubectl\\b.*\\s(?:apply|create|replace|rollout|patch|set\\s+image)\\b',
      '\\bhelm\\s+(?:upgrade|install|push)\\b',
      '\\bhelmfile\\b.*\\b(?:apply|sync)\\b',
      '\\bargocd\\s+app\\s+(?:sync|set|create)\\b',
      '\\bflux\\s+reconcile\\b',
      '\\bskaffold\\s+(?:run|deploy)\\b',
      '\\b(?:terraform|tofu|terragrunt)\\b.*\\sapply\\b',
      '\\bpulumi\\s+up\\b',
      '\\b(?:cdk|cdktf|sam|serverless|sls|sst)\\s+deploy\\b',
      '\\bcopilot\\b.*\\bdeploy\\b',
      '\\bansible-playbook\\b',
      '\\baws\\s+(?:s3\\s+(?:sync|cp)|cloudformation\\s+(?:deploy|create-stack|update-stack)|ecs\\s+update-service|lambda\\s+(?:update-function-code|publish-version)|deploy\\s+create-deployment|elasticbeanstalk\\s+update-environment|amplify\\s+start-job)\\b',
      '\\beb\\s+deploy\\b',
      '\\bgcloud\\b.*\\bdeploy\\b',
      '\\bgsutil\\b.*\\s(?:cp|rsync)\\b',
      '\\bfirebase\\s+deploy\\b',
      '\\baz\\b.*\\b(?:deploy|deployment|webapp\\s+up)\\b',
      '\\bazd\\s+(?:deploy|up)\\b',
      '\\bfunc\\s+azure\\s+functionapp\\s+publish\\b',
      '\\b(?:flyctl|fly)\\s+deploy\\b',
      '\\bvercel\\s+(?:deploy|--prod|--prebuilt)\\b',
      '\\bvercel\\b.*\\s--prod\\b',
      '\\bnetlify\\s+deploy\\b',
      '\\bwrangler\\s+(?:deploy|publish|pages\\s+deploy)\\b',
      '\\brailway\\s+up\\b',
      '\\bheroku\\b.*\\b(?:deploy|container:release|releases)\\b',
      '\\bgit\\s+push\\b.*\\b(?:heroku|dokku)\\b',
      '\\bcf\\s+push\\b',
      '\\b(?:kamal|dep|cap)\\b.*\\bdeploy\\b',
      '\\bmkdocs\\s+gh-deploy\\b',
      '\\b(?:gh-pages|surge|semantic-release|fastlane)\\b',
      `\\b${PM}\\s+publish\\b`,
      '\\byarn\\s+npm\\s+publish\\b',
      '\\b(?:changeset|lerna)\\s+publish\\b',
      '\\btwine\\s+upload\\b',
      '\\b(?:poetry|flit|hatch|uv|pdm)\\s+publish\\b',
      '\\bcargo\\s+publish\\b',
      '\\bgem\\s+push\\b',
      '\\bmvnw?(?:\\.cmd)?\\b.*\\bdeploy\\b',
      '\\bgradlew?(?:\\.bat)?\\b.*\\bpublish\\w*\\b',
      '\\b(?:dotnet\\s+)?nuget\\s+push\\b',
      '\\b(?:docker|podman)\\s+(?:push|image\\s+push|manifest\\s+push)\\b',
      '\\bdocker\\s+buildx\\s+build\\b.*\\s--push\\b',
      '\\b(?:crane|skopeo)\\s+(?:push|copy|cp)\\b',
      '\\bgh\\s+release\\s+(?:create|upload|edit)\\b',
      '\\bcr\\s+upload\\b',
      '\\b(?:dart\\s+)?pub\\s+publish\\b',
      '\\bmix\\s+hex\\.publish\\b',
      '\\bpod\\s+trunk\\s+push\\b',
      '\\b(?:vsce|ovsx|jsr)\\s+publish\\b',
      '\\bdeno\\s+publish\\b',
      '\\bgit\\s+push\\b.*\\s--(?:follow-)?tags\\b',
    ],
  },
} satisfies Record<string, JobIntent>);

/* ------------------------------------------------------------------ */
/* Compilation                                                        */
/* ------------------------------------------------------------------ */

/** An intent ready to be checked: keyword word-sequences, one action matcher, compiled commands. */
export interface CompiledJobIntent {
  readonly name: string;
  /** Each keyword as its words (`dependency review` ⇒ [dependency, review]). */
  readonly keywords: readonly (readonly string[])[];
  readonly commands: readonly RegExp[];
  /** Whether a `uses:` value (any form) is one of the intent's actions. */
  matchesAction(uses: string): boolean;
  /**
   * Whether these words (from `wordsOf`) contain one of the intent's
   * keywords: consecutive words that spell it, so `run-unit-tests`,
   * `CodeQL` and `type-check` claim `tests`, `codeql` and `typecheck`.
   */
  claimedBy(words: readonly string[]): boolean;
}

const OPTION_FIELD = 'rules.options.jobIntents';

/**
 * Compile intents once per evaluation. Intents are returned sorted by name so
 * findings come out in a stable order. Throws `InputError` (`CONFIG_INVALID`,
 * with the option field) for a keyword with no word characters, an empty
 * action glob, a command that is not a valid regular expression, or a
 * command whose quantified group contains a quantifier (`(a+)+`, which can
 * backtrack exponentially on a long script).
 */
export function compileJobIntents(intents: Readonly<Record<string, JobIntent>>): CompiledJobIntent[] {
  // The configuration loader and MD-100 compile the same (immutable) intents: do it once per object.
  const cached = compiledIntents.get(intents);
  if (cached !== undefined) return cached;
  const compiled = Object.keys(intents)
    .sort()
    .map((name) => compileIntent(name, intents[name]));
  compiledIntents.set(intents, compiled);
  return compiled;
}

const compiledIntents = new WeakMap<Readonly<Record<string, JobIntent>>, CompiledJobIntent[]>();

function compileIntent(name: string, intent: JobIntent): CompiledJobIntent {
  const field = `${OPTION_FIELD}.${name}`;
  const keywords = intent.keywords.map((keyword, i) => {
    const words = wordsOf(keyword);
    if (words.length === 0) {
      throw new InputError('CONFIG_INVALID', `job intent "${name}": keyword ${JSON.stringify(keyword)} has no words`, {
        location: { field: `${field}.keywords[${i}]` },
      });
    }
    return words;
  });
  const joined = keywords.map((words) => words.join(''));
  const globs = intent.actions.map((glob, i) => {
    const trimmed = glob.trim().replace(/@.*$/, '');
    if (trimmed === '') {
      throw new InputError('CONFIG_INVALID', `job intent "${name}": action glob is empty`, {
        location: { field: `${field}.actions[${i}]` },
      });
    }
    return trimmed;
  });
  const matcher = globs.length === 0 ? undefined : picomatch(globs, { nocase: true, dot: true });
  const commands = intent.commands.map((source, i) => compileCommand(name, source, `${field}.commands[${i}]`));
  return {
    name,
    keywords,
    commands,
    matchesAction(uses: string): boolean {
      if (matcher === undefined) return false;
      const action = normalizedAction(uses);
      return action !== undefined && matcher(action);
    },
    claimedBy(words: readonly string[]): boolean {
      return joined.some((keyword) => spells(words, keyword));
    },
  };
}

function compileCommand(intent: string, source: string, field: string): RegExp {
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, 'i');
  } catch (error) {
    throw new InputError('CONFIG_INVALID', `job intent "${intent}": command ${JSON.stringify(source)} is not a valid regular expression: ${(error as Error).message}`, {
      location: { field },
    });
  }
  const nested = nestedQuantifierAt(source);
  if (nested !== -1) {
    throw new InputError('CONFIG_INVALID', `job intent "${intent}": command ${JSON.stringify(source)} repeats a group that itself repeats (offset ${nested}); rewrite it without nested quantifiers`, {
      location: { field },
    });
  }
  return pattern;
}

interface GroupFrame {
  repeats: boolean;
}

/**
 * Offset of the first quantifier that repeats a group which already
 * contains a repeating quantifier (`(a+)+`, `(?:x*y){2,}`), or -1. `?` and
 * `{n}` do not repeat; `*`, `+`, `{n,}` and `{n,m}` with m > 1 do.
 */
export function nestedQuantifierAt(source: string): number {
  const stack: GroupFrame[] = [{ repeats: false }];
  let closedGroupRepeats: boolean | undefined;
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\\') {
      i = skipEscape(source, i);
      closedGroupRepeats = undefined;
    } else if (c === '[') {
      i = skipClass(source, i);
      closedGroupRepeats = undefined;
    } else if (c === '(') {
      stack.push({ repeats: false });
      i++;
      closedGroupRepeats = undefined;
    } else if (c === ')') {
      const frame = stack.length > 1 ? stack.pop()! : stack[0];
      stack[stack.length - 1].repeats ||= frame.repeats;
      closedGroupRepeats = frame.repeats;
      i++;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      const quantifier = readQuantifier(source, i);
      if (quantifier === undefined) {
        closedGroupRepeats = undefined;
        i++;
        continue;
      }
      if (quantifier.repeats) {
        if (closedGroupRepeats === true) return i;
        stack[stack.length - 1].repeats = true;
      }
      closedGroupRepeats = undefined;
      i = quantifier.end;
    } else {
      closedGroupRepeats = undefined;
      i++;
    }
  }
  return -1;
}

function skipEscape(source: string, i: number): number {
  const next = source[i + 1];
  const after = source[i + 2];
  if ((next === 'p' || next === 'P' || next === 'u') && after === '{') {
    const close = source.indexOf('}', i + 3);
    return close === -1 ? source.length : close + 1;
  }
  if (next === 'k' && after === '<') {
    const close = source.indexOf('>', i + 3);
    return close === -1 ? source.length : close + 1;
  }
  return i + 2;
}

function skipClass(source: string, i: number): number {
  let j = i + 1;
  while (j < source.length && source[j] !== ']') j = source[j] === '\\' ? j + 2 : j + 1;
  return j + 1;
}

const BRACE_QUANTIFIER = /^\{(\d+)(,(\d*))?\}/;

function readQuantifier(source: string, i: number): { repeats: boolean; end: number } | undefined {
  const c = source[i];
  let end = i + 1;
  let repeats: boolean;
  if (c === '{') {
    const m = BRACE_QUANTIFIER.exec(source.slice(i));
    if (m === null) return undefined;
    end = i + m[0].length;
    const max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
    repeats = max > 1;
  } else {
    repeats = c !== '?';
  }
  if (source[end] === '?') end++;
  return { repeats, end };
}

/**
 * `owner/name[/path]` of a `uses:` value, without `@ref`; for `docker://`
 * images the repository path without registry host and tag. Undefined for
 * local actions (`./...`), which are judged by their name instead.
 */
export function normalizedAction(uses: string): string | undefined {
  const value = uses.trim();
  if (value.startsWith('./') || value.startsWith('../')) return undefined;
  if (value.startsWith('docker://')) {
    const segments = value.slice('docker://'.length).replace(/@.*$/, '').split('/');
    if (segments.length > 1 && /[.:]|^localhost$/.test(segments[0])) segments.shift();
    segments[segments.length - 1] = segments[segments.length - 1].replace(/:.*$/, '');
    return segments.join('/');
  }
  const at = value.indexOf('@');
  return at === -1 ? value : value.slice(0, at);
}

/* ------------------------------------------------------------------ */
/* Shell scripts                                                      */
/* ------------------------------------------------------------------ */

/** One simple command of a shell script, with its position in the script. */
export interface ShellCommand {
  /** Command text: comments removed, continuation lines joined by a space. */
  readonly text: string;
  /** 0-based script line of the character at `offset` in `text`. */
  lineAt(offset: number): number;
}

/** Where each physical line starts inside a joined logical line. */
interface LinePiece {
  offset: number;
  line: number;
}

/**
 * Split a `run:` script into simple commands: comments (`#` starting a
 * word) removed, `\`-continued lines joined, and split at `&&`, `||`, `;`,
 * `|` and `&` outside quotes. Good enough for CI scripts; heredoc bodies
 * are read as commands.
 */
export function shellCommands(script: string): ShellCommand[] {
  const physical = script.split(/\r?\n/);
  const out: ShellCommand[] = [];
  let text = '';
  let pieces: LinePiece[] = [];
  for (let index = 0; index < physical.length; index++) {
    let line = stripComment(physical[index]);
    const continued = CONTINUATION.test(line);
    if (continued) line = line.replace(CONTINUATION, ' ');
    pieces.push({ offset: text.length, line: index });
    text += line;
    if (continued && index < physical.length - 1) continue;
    if (pieces.length === 1 && !SHELL_SPECIAL.test(text)) {
      const body = text.trim();
      if (body !== '') out.push({ text: body, lineAt: () => index });
    } else if (text.trim() !== '') {
      splitCommands(text, pieces, out);
    }
    text = '';
    pieces = [];
  }
  return out;
}

const CONTINUATION = /\\\s*$/;
/** Characters that make a line more than one plain command. */
const SHELL_SPECIAL = /[;|&"'\\]/;

function lineOfPiece(pieces: readonly LinePiece[], offset: number): number {
  let line = pieces[0].line;
  for (const piece of pieces) {
    if (piece.offset > offset) break;
    line = piece.line;
  }
  return line;
}

function stripComment(line: string): string {
  if (!line.includes('#')) return line;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '\\') {
      i++;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i);
    }
  }
  return line;
}

function splitCommands(text: string, pieces: readonly LinePiece[], out: ShellCommand[]): void {
  let quote: string | undefined;
  let start = 0;
  const push = (end: number): void => {
    const raw = text.slice(start, end);
    const body = raw.trim();
    if (body === '') return;
    const first = start + raw.length - raw.trimStart().length;
    const single = pieces.length === 1;
    const line = pieces[0].line;
    out.push({ text: body, lineAt: single ? () => line : (offset) => lineOfPiece(pieces, first + offset) });
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '\\') {
      i++;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === ';' || c === '|' || c === '&') {
      if (c === '&' && (text[i - 1] === '>' || text[i + 1] === '>')) continue;
      push(i);
      if ((c === '|' || c === '&') && text[i + 1] === c) i++;
      start = i + 1;
    }
  }
  push(text.length);
}

/** The words of a command, quotes removed (no expansion). */
export function commandWords(text: string): string[] {
  const words: string[] = [];
  let start = -1;
  let current = '';
  let quote = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (quote !== 0) {
      if (code === quote) {
        current += text.slice(start, i);
        start = i + 1;
        quote = 0;
      }
    } else if (code === 0x22 || code === 0x27) {
      if (start === -1) start = i;
      current += text.slice(start, i);
      start = i + 1;
      quote = code;
    } else if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d) {
      if (start !== -1) words.push(current + text.slice(start, i));
      current = '';
      start = -1;
    } else if (start === -1) {
      start = i;
    }
  }
  if (start !== -1) words.push(current + text.slice(start));
  return words;
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const WRAPPERS: ReadonlySet<string> = new Set(['sudo', 'time', 'env', 'exec', 'nohup', 'command', 'npx', 'pnpx', 'bunx', 'xvfb-run']);
const INERT: ReadonlySet<string> = new Set(['echo', 'printf']);

/** The command's words from the program on: leading `VAR=value`, subshell `(` and wrappers (`sudo`, `npx`, `env`...) dropped. */
function programWords(text: string): string[] {
  return programWordsOf(commandWords(text.replace(/^[({]\s*/, '')));
}

function programWordsOf(words: readonly string[]): string[] {
  let i = 0;
  while (i < words.length && (ASSIGNMENT.test(words[i]) || WRAPPERS.has(programName(words[i])) || words[i].startsWith('-'))) i++;
  return words.slice(i);
}

/** Basename of a program without `.exe`/`.cmd`/`.bat`, lower case. */
function programName(word: string): string {
  const base = word.slice(word.lastIndexOf('/') + 1).toLowerCase();
  const dot = base.length - 4;
  if (dot > 0 && base[dot] === '.') {
    const extension = base.slice(dot + 1);
    if (extension === 'exe' || extension === 'cmd' || extension === 'bat') return base.slice(0, dot);
  }
  return base;
}

/** What a command does, as far as intents are concerned. */
export interface CommandAnalysis {
  /** It only prints (`echo`, `printf`) or is empty: its arguments are text, not commands. */
  inert: boolean;
  /** It only installs tools or dependencies. */
  install: boolean;
  /** Names of the scripts and tasks it invokes (see `invokedScriptNames`). */
  scriptNames: string[];
}

/** Read a command's words once and classify it. */
export function analyzeCommand(text: string): CommandAnalysis {
  const words = programWords(text);
  const inert = words.length === 0 || INERT.has(programName(words[0]));
  if (inert) return { inert, install: false, scriptNames: [] };
  const install = installWords(words);
  return { inert, install, scriptNames: install ? [] : scriptNamesOf(words) };
}

/** Whether the command only prints text (`echo`, `printf`): its arguments are not commands. */
export function isInertCommand(text: string): boolean {
  return analyzeCommand(text).inert;
}

const JS_PACKAGE_MANAGERS: ReadonlySet<string> = new Set(['npm', 'pnpm', 'yarn', 'bun']);
const JS_INSTALL: ReadonlySet<string> = new Set(['install', 'i', 'add', 'ci']);
const SYSTEM_INSTALLERS: ReadonlySet<string> = new Set([
  'pip', 'pip3', 'pipx', 'gem', 'brew', 'apt', 'apt-get', 'apk', 'yum', 'dnf', 'choco', 'snap', 'sdk', 'dotnet', 'uv',
]);

/**
 * Whether the command only installs tools or dependencies (`npm ci`,
 * `pip install ruff`, `apt-get install -y shellcheck`, `go install
 * x/y@latest`, `cargo install cargo-audit`): naming a linter or scanner
 * while installing it does not run it.
 */
function installWords(words: readonly string[]): boolean {
  if (words.length === 0) return false;
  const program = programName(words[0]);
  const rest = positional(words.slice(1));
  if (JS_PACKAGE_MANAGERS.has(program)) return rest.length === 0 ? program !== 'npm' : JS_INSTALL.has(rest[0]);
  if (program === 'python' || /^python\d/.test(program)) return flagValues(words, ['-m']).includes('pip');
  if (SYSTEM_INSTALLERS.has(program)) return rest.some((word) => word === 'install' || word === 'add');
  if (program === 'go') return rest[0] === 'install' && rest.some((word) => word.includes('@'));
  if (program === 'cargo') return rest[0] === 'install' && !words.includes('--path');
  return false;
}

/** Flags of package managers and task runners that take the next word as their value. */
const VALUE_FLAGS: ReadonlySet<string> = new Set([
  '-w', '--workspace', '--prefix', '--cwd', '--filter', '-F', '-C', '--dir', '--directory', '-f', '--file',
  '--makefile', '--justfile', '--taskfile', '--project', '--config', '-P', '-pl', '--settings',
]);

/** Non-flag arguments, skipping values of flags in VALUE_FLAGS and `VAR=value` words. */
function positional(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg.startsWith('-')) {
      if (VALUE_FLAGS.has(arg)) i++;
      continue;
    }
    if (ASSIGNMENT.test(arg)) continue;
    out.push(arg);
  }
  return out;
}

/** Values of the given flags (`-e a,b`, `--env=a`), split on commas. */
function flagValues(args: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    for (const flag of flags) {
      if (arg === flag && i + 1 < args.length) out.push(...args[i + 1].split(','));
      else if (arg.startsWith(`${flag}=`)) out.push(...arg.slice(flag.length + 1).split(','));
    }
  }
  return out;
}

const PACKAGE_MANAGERS: ReadonlySet<string> = new Set(['yarn', 'pnpm', 'bun', 'composer']);
const NPM_LIFECYCLE: Readonly<Record<string, string>> = { test: 'test', t: 'test', tst: 'test', start: 'start', stop: 'stop', restart: 'restart' };
const TASK_RUNNERS: ReadonlySet<string> = new Set([
  'make', 'gmake', 'just', 'task', 'rake', 'mage', 'invoke', 'inv', 'gulp', 'grunt', 'turbo', 'nx', 'lerna',
  'moon', 'cake', 'doit', 'gradle', 'gradlew', 'mvn', 'mvnw', 'sbt', 'ant', 'earthly', 'bazel', 'bazelisk',
]);
const INTERPRETERS: ReadonlySet<string> = new Set([
  'bash', 'sh', 'zsh', 'dash', 'ksh', 'pwsh', 'powershell', 'python', 'python3', 'node', 'ruby', 'perl',
  'php', 'tsx', 'ts-node', 'source', '.', 'go',
]);

/**
 * Names of the scripts, tasks or script files a command invokes, as written
 * (`test:unit`, `lint`, `scripts/test.sh` ⇒ `test`): package-manager scripts
 * (`npm run X`, `npm test`, `yarn X`, `pnpm [run] X`, `bun run X`,
 * `composer X`, `deno task X`, `cargo make|xtask X`), task-runner targets
 * (make, just, task, rake, gradle, mvn, turbo, nx...), tox `-e` and nox
 * `-s` environments, `python -m X` modules, and the basename (without
 * extension) of a script file run directly or through an interpreter.
 */
export function invokedScriptNames(text: string): string[] {
  return scriptNamesOf(programWords(text));
}

function scriptNamesOf(words: readonly string[]): string[] {
  if (words.length === 0) return [];
  const program = programName(words[0]);
  const args = words.slice(1);
  const rest = positional(args);
  if (program === 'npm') {
    const [first, second] = rest;
    if (first === 'run' || first === 'run-script') return second === undefined ? [] : [second];
    if (first !== undefined && NPM_LIFECYCLE[first] !== undefined) return [NPM_LIFECYCLE[first]];
    if (first === 'exec' || first === 'x') return scriptNamesOf(programWordsOf(args.slice(args.indexOf(first) + 1)));
    return [];
  }
  if (PACKAGE_MANAGERS.has(program)) {
    let k = 0;
    if (rest[k] === 'workspace') k += 2;
    if (rest[k] === 'exec' || rest[k] === 'dlx' || rest[k] === 'x') {
      return scriptNamesOf(programWordsOf(args.slice(args.indexOf(rest[k]) + 1)));
    }
    if (rest[k] === 'run' || rest[k] === 'run-script') k++;
    const name = rest[k];
    if (name === undefined) return [];
    return [name.includes('/') ? scriptBasename(name) : name];
  }
  if (program === 'deno' && rest[0] === 'task') return rest[1] === undefined ? [] : [rest[1]];
  if (program === 'cargo' && (rest[0] === 'make' || rest[0] === 'xtask')) return rest.slice(1);
  if (TASK_RUNNERS.has(program)) return rest;
  if (program === 'tox') return flagValues(args, ['-e', '--env']);
  if (program === 'nox') return flagValues(args, ['-s', '--session', '--sessions', '-t', '--tags']);
  if (INTERPRETERS.has(program) || /^python\d/.test(program)) {
    const inline = args.indexOf('-c');
    if (inline !== -1 && inline + 1 < args.length) {
      return shellCommands(args[inline + 1]).flatMap((command) => invokedScriptNames(command.text));
    }
    const module = flagValues(args, ['-m']);
    if (module.length > 0) return module;
    const target = rest[0] === 'run' && program === 'go' ? rest[1] : rest[0];
    return target === undefined || !looksLikeFile(target) ? [] : [scriptBasename(target)];
  }
  if (words[0].includes('/')) return [scriptBasename(words[0])];
  return [];
}

function looksLikeFile(word: string): boolean {
  return word.includes('/') || /\.[A-Za-z0-9]+$/.test(word);
}

/** Last path segment without its extension (`ci/run-lint.sh` ⇒ `run-lint`, `./cmd/lint/` ⇒ `lint`). */
export function scriptBasename(word: string): string {
  const trimmed = word.replace(/\/+$/, '');
  const base = trimmed.slice(trimmed.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** `with:` inputs that hold a command or script to run (wrapper actions such as xvfb, ssh, retry, azure/cli). */
export const COMMAND_INPUTS: ReadonlySet<string> = new Set([
  'run', 'script', 'scripts', 'command', 'commands', 'cmd', 'args', 'arguments', 'inlinescript', 'inline-script',
  'entrypoint', 'shell-command',
]);
