import type { Command } from 'commander';
import { asFlags } from '../cli-error';
import { connect, request } from '../client';
import { integer, type GlobalOptions } from '../options';
import { outputOf, printJson, printTable, shortTime, truncate } from '../output';

interface JobsOptions extends GlobalOptions {
  first?: number;
  after?: string;
  session?: string;
}

interface JobRow { id: string; status: string; prompt: string; createdAt: string; steps: number; count: number; seed: number; progress: number }
interface JobsPage { edges: { cursor: string; node: JobRow }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } }

const JOBS = `query CliJobs($first: Int, $after: String, $sessionId: ID) {
  jobs(first: $first, after: $after, sessionId: $sessionId) {
    edges { cursor node { id status prompt createdAt steps count seed progress } }
    pageInfo { endCursor hasNextPage }
  }
}`;

async function jobs(options: JobsOptions): Promise<void> {
  const page = (await request<{ jobs: JobsPage }>(connect(options.url), JOBS, {
    first: options.first, after: options.after, sessionId: options.session,
  }).catch((error: unknown) => {
    throw asFlags(error, { sessionId: 'session' });
  })).jobs;
  if (outputOf(options).json) {
    printJson({ jobs: page.edges.map((edge) => edge.node), pageInfo: page.pageInfo });
    return;
  }
  printTable(['ID', 'STATUS', 'CREATED (UTC)', 'STEPS', 'IMAGES', 'PROMPT'], page.edges.map(({ node }) => [
    node.id, node.status, shortTime(node.createdAt), String(node.steps), String(node.count), truncate(node.prompt),
  ]), 'no jobs yet');
  if (page.pageInfo.hasNextPage) console.log(`\nmore: ${nextPage(options, page.pageInfo.endCursor ?? '')}`);
}

/** The command for the next page: the options given, with the new cursor. */
function nextPage(options: JobsOptions, cursor: string): string {
  const given: [string, string | number | undefined][] = [['--url', options.url], ['--session', options.session], ['--first', options.first]];
  return ['atelier jobs', ...given.filter(([, value]) => value !== undefined).map(([flag, value]) => `${flag} ${value}`), `--after ${cursor}`].join(' ');
}

export function jobsCommand(program: Command): void {
  program.command('jobs')
    .description('your recent jobs, newest first (or a session\'s)')
    .option('--first <n>', 'page size, 1..100', integer)
    .option('--after <cursor>', 'the cursor printed after the previous page')
    .option('--session <id>', 'jobs of this session instead of your own')
    .action(async (_options, command: Command) => jobs(command.optsWithGlobals<JobsOptions>()));
}
