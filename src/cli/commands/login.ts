import type { Command } from 'commander';
import { badCliInput } from '../cli-error';
import { request, type Connection } from '../client';
import { checkConfigWritable, configPath, readConfigIfSound, serverUrl, writeConfig, type CliConfig } from '../config-file';
import { outputOf, printJson } from '../output';
import { askAll } from '../prompt';
import type { GlobalOptions } from '../options';

interface LoginOptions extends GlobalOptions {
  email?: string;
  password?: string;
  apiKey?: string;
}

const LOGIN = 'mutation CliLogin($email: String!, $password: String!) { login(email: $email, password: $password) { token user { id email } } }';
const ME = 'query CliMe { me { id email } }';

/** Signs in (or checks an API key) and stores the server and credential, mode 0600; a damaged config file is replaced. */
async function login(options: LoginOptions): Promise<void> {
  const old = readConfigIfSound();
  const url = serverUrl(options.url, old.config);
  // Refused before signing in: a login the server accepted but that cannot be stored helps no one.
  checkConfigWritable();
  let config: CliConfig;
  let email: string;
  if (options.apiKey !== undefined) {
    if (!options.apiKey.trim()) throw badCliInput('apiKey', 'the API key given with --api-key is empty');
    const me = await request<{ me: { email: string } | null }>({ url, credential: options.apiKey }, ME);
    if (!me.me) throw badCliInput('apiKey', 'The server does not accept this API key');
    email = me.me.email;
    config = { url, credential: { kind: 'apiKey', value: options.apiKey, email } };
  } else {
    const asked = await askAll([
      ...(options.email ? [] : [{ name: 'email', question: 'Email: ' }]),
      ...(options.password ? [] : [{ name: 'password', question: 'Password: ', secret: true }]),
    ]);
    email = options.email ?? asked.email;
    const password = options.password ?? asked.password;
    const conn: Connection = { url, credential: null };
    const data = await request<{ login: { token: string; user: { email: string } } }>(conn, LOGIN, { email, password });
    config = { url, credential: { kind: 'token', value: data.login.token, email: data.login.user.email } };
  }
  writeConfig(config);
  if (outputOf(options).json) printJson({ url, email, kind: config.credential!.kind, configFile: configPath(), replacedDamaged: old.damaged });
  else console.log(`Signed in to ${url} as ${email} (saved in ${configPath()}${old.damaged ? ', replacing the damaged file that was there' : ''})`);
}

export function loginCommand(program: Command): void {
  program.command('login')
    .description('sign in and store the server URL and credential (asks for email and password unless given)')
    .option('--email <email>', 'account email')
    .option('--password <password>', 'account password (visible in the process list: prefer the prompt)')
    .option('--api-key <key>', 'store an API key instead of signing in')
    .action(async (_options, command: Command) => login(command.optsWithGlobals<LoginOptions>()));
}
