import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CONFIG_KEYS, SECRET_ENV, regionsOf, type Config } from '../core/config-schema.js';
import { CONFIG_FILE_NAME } from '../core/config.js';
import { UserError } from '../core/errors.js';
import { writeFileAtomic } from '../core/fs-atomic.js';
import type { Context } from '../core/context.js';
import { defineCommand, flag, type OptionSpec, option } from './command.js';

/** What `init` asks for, in order; each maps onto a config key and an equally named flag. */
const QUESTIONS = [
  { key: 'cloud', flag: '--cloud <provider>', required: true, message: 'Cloud provider' },
  { key: 'region', flag: '--region <region>', required: true, message: 'Region' },
  { key: 'clusterType', flag: '--cluster-type <type>', required: true, message: 'Kafka cluster type' },
  { key: 'prefix', flag: '--prefix <prefix>', required: true, message: 'Resource name prefix' },
  { key: 'mongoHost', flag: '--mongo-host <host>', required: false, message: 'MongoDB Atlas host (empty: no sink)' },
  { key: 'mongoDatabase', flag: '--mongo-database <name>', required: false, message: 'MongoDB database' },
  { key: 'mongoCollection', flag: '--mongo-collection <name>', required: false, message: 'MongoDB collection' },
  { key: 'mongoUser', flag: '--mongo-user <user>', required: false, message: 'MongoDB user' },
] as const satisfies readonly { key: keyof Config; flag: string; required: boolean; message: string }[];

type QuestionKey = (typeof QUESTIONS)[number]['key'];
type Answers = Partial<Record<QuestionKey, string>>;

/** One flag per question, named like its config key (`clusterType` ↔ `--cluster-type`). */
const QUESTION_OPTIONS = Object.fromEntries(
  QUESTIONS.map((q) => [q.key, option(q.flag, CONFIG_KEYS[q.key].description)]),
) as Record<QuestionKey, OptionSpec<string | undefined>>;

export interface InitResult {
  path: string;
  config: Answers;
  secretsFrom: string[];
}

export const initCommand = defineCommand({
  name: 'init',
  summary: 'Write marketplace.config.json (interactive wizard, or --yes with flags)',
  description:
    'Create the config file. On a terminal it asks for each setting; with --yes (or no terminal) it takes them from ' +
    'flags and defaults and never prompts. Secrets are never written: the file says where they come from.',
  options: { ...QUESTION_OPTIONS, force: flag('--force', 'overwrite an existing config file') },
  examples: [
    { command: 'marketplace init', description: 'answer the questions interactively' },
    {
      command: 'marketplace init --yes --cloud aws --region us-east-2 --cluster-type basic --prefix demo',
      description: 'no prompts (CI)',
    },
    {
      command: 'marketplace init --yes --mongo-host cluster0.abcde.mongodb.net --mongo-user app',
      description: 'with the MongoDB Atlas sink',
    },
  ],
  run: async (ctx, { options }): Promise<InitResult> => {
    const path = resolve(ctx.cwd, ctx.globals.config ?? CONFIG_FILE_NAME);
    const existing = await kindOf(path);
    if (existing === 'directory') {
      throw new UserError(`${path} is a directory`, {
        hint: `Pass --config the path of the file to write, such as ${join(path, CONFIG_FILE_NAME)}.`,
      });
    }
    if (existing === 'missing' && (await kindOf(dirname(path))) !== 'directory') {
      throw new UserError(`cannot write ${path}: the directory ${dirname(path)} does not exist`, {
        hint: 'Create the directory first, or pass --config a path in an existing one.',
      });
    }
    if (!options.force && existing === 'file') {
      throw new UserError(`${path} already exists`, { hint: 'Pass --force to overwrite it, or edit it by hand.' });
    }
    const given: Answers = {};
    for (const q of QUESTIONS) {
      const value = options[q.key];
      if (value !== undefined) given[q.key] = value;
    }
    const answers = ctx.prompts.interactive && !ctx.globals.yes ? await ask(ctx, given) : given;
    if (!ctx.prompts.interactive && !ctx.globals.yes) {
      const missing = QUESTIONS.filter((q) => q.required && answers[q.key] === undefined).map(
        (q) => q.flag.split(' ')[0]!,
      );
      if (missing.length > 0) {
        throw new UserError(`no terminal to ask on, and these settings are missing: ${missing.join(', ')}`, {
          hint: `Pass them as flags, or pass --yes to take the defaults (${missing.map(defaultOf).join(', ')}).`,
        });
      }
    }
    const config = withDefaults(answers);
    // Validate exactly as every later command will read it, so init never writes a file that fails to load. The
    // file itself is left out: it is the one being written (and with --force may be the broken one being replaced).
    await ctx.loadConfig(
      Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) as Partial<Config>,
      { withoutFile: true },
    );
    const ordered = Object.fromEntries(QUESTIONS.flatMap((q) => (config[q.key] ? [[q.key, config[q.key]]] : [])));
    await writeFileAtomic(path, `${JSON.stringify(ordered, null, 2)}\n`, { mode: 0o644 });
    const secretsFrom: string[] = [SECRET_ENV.cloudApiKey, SECRET_ENV.cloudApiSecret];
    if (config.mongoHost) secretsFrom.push(SECRET_ENV.mongoPassword);
    return { path, config: ordered, secretsFrom };
  },
  render: (result, ctx) => {
    ctx.out.success(`Wrote ${result.path}`);
    ctx.out.info(`Secrets are not stored in it. Before \`marketplace up\`, export ${result.secretsFrom.join(', ')}`);
    ctx.out.info(
      '(or let `marketplace up` prompt for them on a terminal). Check everything with `marketplace doctor`.',
    );
  },
});

async function ask(ctx: Context, given: Answers): Promise<Answers> {
  const answers: Answers = { ...given };
  answers.cloud ??= await ctx.prompts.select({
    message: 'Cloud provider',
    choices: [{ value: 'aws' }, { value: 'gcp' }, { value: 'azure' }],
    default: 'aws',
  });
  const regions = regionsOf(answers.cloud as Config['cloud']);
  answers.region ??= await ctx.prompts.select({
    message: 'Region',
    choices: regions.map((value) => ({ value })),
    default: regions.includes('us-east-2') ? 'us-east-2' : regions[0],
  });
  answers.clusterType ??= await ctx.prompts.select({
    message: 'Kafka cluster type',
    choices: [{ value: 'basic' }, { value: 'standard' }, { value: 'enterprise' }],
    default: 'basic',
  });
  answers.prefix ??= await ctx.prompts.input({
    message: 'Resource name prefix',
    default: 'marketplace',
    validate: (value) => CONFIG_KEYS.prefix.schema.safeParse(value).success || CONFIG_KEYS.prefix.expected,
  });
  if (answers.mongoHost === undefined) {
    const host = await ctx.prompts.input({ message: 'MongoDB Atlas host (leave empty to skip the sink)', default: '' });
    if (host) answers.mongoHost = host;
  }
  if (answers.mongoHost) {
    answers.mongoDatabase ??= await ctx.prompts.input({ message: 'MongoDB database', default: 'marketplace' });
    answers.mongoCollection ??= await ctx.prompts.input({ message: 'MongoDB collection', default: 'job_status' });
    answers.mongoUser ??= await ctx.prompts.input({ message: 'MongoDB user' });
  }
  return answers;
}

function withDefaults(answers: Answers): Answers {
  const filled: Answers = { ...answers };
  for (const q of QUESTIONS) {
    const fallback = (CONFIG_KEYS[q.key] as { default?: unknown }).default;
    if (filled[q.key] === undefined && q.required && fallback !== undefined) filled[q.key] = String(fallback);
  }
  if (filled.mongoHost) {
    filled.mongoDatabase ??= String(CONFIG_KEYS.mongoDatabase.default);
    filled.mongoCollection ??= String(CONFIG_KEYS.mongoCollection.default);
  }
  return filled;
}

function defaultOf(flag: string): string {
  const q = QUESTIONS.find((question) => question.flag.startsWith(`${flag} `))!;
  return `${flag} ${String((CONFIG_KEYS[q.key] as { default?: unknown }).default)}`;
}

async function kindOf(path: string): Promise<'file' | 'directory' | 'missing'> {
  return stat(path).then(
    (found) => (found.isDirectory() ? 'directory' : 'file'),
    () => 'missing',
  );
}
