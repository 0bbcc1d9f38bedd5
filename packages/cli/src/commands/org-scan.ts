import { resolve } from 'node:path';
import { createGitHubClient, parseOrgScanFile, UsageError } from '@phase-mirror/mirror-dissonance';
import { scanOrganization } from '@phase-mirror/mirror-dissonance';
import { writeFileAtomic } from '../atomic-write';
import { EXIT } from '../exit-codes';
import { progress, type Io } from '../io';

/**
 * `org-scan --org ORG`: the governance state of every repository of an
 * organisation from the GitHub API, as JSON (validated against
 * schemas/org-scan.schema.json before it is written) for MD-101.
 */
export async function orgScanCommand(options: { org: string; output?: string }, io: Io): Promise<number> {
  const token = io.env.GITHUB_TOKEN?.trim();
  if (!token) throw new UsageError('org-scan reads the GitHub API: set GITHUB_TOKEN (Metadata and Administration read on the organisation\'s repositories)');
  if (!/^[A-Za-z0-9-]+$/.test(options.org)) throw new UsageError(`"${options.org}" is not an organisation login`, { location: { flag: '--org' } });
  const client = createGitHubClient({ token, ...(io.env.GITHUB_API_URL ? { baseUrl: io.env.GITHUB_API_URL } : {}) });
  const scan = await scanOrganization(client, options.org, {
    onProgress: (done, total) => progress(io, `scanned ${done}/${total} repositories`),
  });
  const { source: _source, ...serializable } = scan;
  const text = `${JSON.stringify(serializable, null, 2)}\n`;
  // The file must be readable back as states: validate exactly what is written.
  parseOrgScanFile(options.output ?? 'org-scan output', text);
  if (options.output === undefined) {
    io.out(text);
  } else {
    writeFileAtomic(resolve(io.cwd, options.output), text);
    io.err(`wrote the state of ${scan.repositories.length} repositories of ${scan.organization} to ${options.output}`);
  }
  return EXIT.OK;
}
