import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/core/config.js';
import { UserError } from '../../src/core/errors.js';

async function dirWith(config?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'marketplace-config-'));
  if (config !== undefined) await writeFile(join(dir, 'marketplace.config.json'), config);
  return dir;
}

async function loadError(options: Parameters<typeof loadConfig>[0]): Promise<UserError> {
  const error = await loadConfig(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

describe('configuration precedence', () => {
  it('uses defaults when nothing is given', async () => {
    const cwd = await dirWith();
    const { values, sources, file } = await loadConfig({ cwd, env: {} });
    expect(values.target).toBe('cloud');
    expect(values.region).toBe('us-east-2');
    expect(values.cloudApiUrl).toBe('https://api.confluent.cloud');
    expect(sources.region).toEqual({ kind: 'default' });
    expect(file).toBeUndefined();
  });

  it('flag beats environment beats file beats default', async () => {
    const cwd = await dirWith(
      JSON.stringify({ region: 'eu-west-1', prefix: 'from-file', clusterType: 'standard' }, null, 2),
    );
    const { values, sources } = await loadConfig({
      cwd,
      env: { MARKETPLACE_REGION: 'eu-west-2', MARKETPLACE_PREFIX: 'from-env' },
      flags: { region: 'eu-west-3' },
    });
    expect(values.region).toBe('eu-west-3');
    expect(sources.region).toEqual({ kind: 'flag', name: '--region' });
    expect(values.prefix).toBe('from-env');
    expect(sources.prefix).toEqual({ kind: 'env', name: 'MARKETPLACE_PREFIX' });
    expect(values.clusterType).toBe('standard');
    expect(sources.clusterType).toMatchObject({ kind: 'file', line: 4 });
    expect(values.cloud).toBe('aws');
  });

  it('reads --config from another directory and puts state beside it', async () => {
    const elsewhere = await dirWith(JSON.stringify({ target: 'local' }));
    const cwd = await dirWith();
    const loaded = await loadConfig({ cwd, env: {}, configPath: join(elsewhere, 'marketplace.config.json') });
    expect(loaded.values.target).toBe('local');
    expect(loaded.dir).toBe(elsewhere);
  });

  it('coerces numbers from the environment and expands ~ in home', async () => {
    const cwd = await dirWith();
    const { values } = await loadConfig({
      cwd,
      env: { HOME: '/home/someone', MARKETPLACE_KSQL_CSU: '4', MARKETPLACE_LOCAL_KAFKA_PORT: '29092' },
    });
    expect(values.ksqlCsu).toBe(4);
    expect(values.localKafkaPort).toBe(29092);
    expect(values.home).toBe('/home/someone/.cache/marketplace');
  });
});

describe('configuration errors name the key, the source and the expected form', () => {
  it('malformed JSON: file:line:column', async () => {
    const cwd = await dirWith('{\n  "region": "us-east-1",\n  "prefix": oops\n}\n');
    const error = await loadError({ cwd, env: {} });
    expect(error.message).toMatch(/^marketplace\.config\.json:3:\d+: not valid JSON/);
    expect(error.hint).toMatch(/marketplace init/);
  });

  it('a JSON array instead of an object', async () => {
    const error = await loadError({ cwd: await dirWith('[]'), env: {} });
    expect(error.message).toMatch(/must hold a JSON object/);
  });

  it('unknown key with a suggestion and its line', async () => {
    const cwd = await dirWith('{\n  "cloud": "aws",\n  "regoin": "us-east-1"\n}');
    const error = await loadError({ cwd, env: {} });
    expect(error.message).toBe('marketplace.config.json:3: unknown setting "regoin" (did you mean "region"?)');
  });

  it('a secret in the config file is refused and the env vars are named', async () => {
    const cwd = await dirWith('{\n  "apiSecret": "x"\n}');
    const error = await loadError({ cwd, env: {} });
    expect(error.message).toMatch(/marketplace\.config\.json:2: "apiSecret" looks like a secret/);
    expect(error.hint).toMatch(/CONFLUENT_CLOUD_API_SECRET/);
  });

  it('wrong type in the file', async () => {
    const cwd = await dirWith('{\n  "ksqlCsu": "two"\n}');
    const error = await loadError({ cwd, env: {} });
    expect(error.message).toBe(
      'marketplace.config.json:2: "ksqlCsu" must be a whole number of CSUs (4, 8, 12 or 28; new clusters need at least 4); got "two"',
    );
    expect(error.hint).toMatch(/Edit "ksqlCsu"/);
  });

  it('bad enum from the environment names the variable', async () => {
    const error = await loadError({ cwd: await dirWith(), env: { MARKETPLACE_CLUSTER_TYPE: 'huge' } });
    expect(error.message).toMatch(
      /^MARKETPLACE_CLUSTER_TYPE: "clusterType" must be "basic", "standard" or "enterprise"; got "huge"/,
    );
    expect(error.hint).toMatch(/unset MARKETPLACE_CLUSTER_TYPE/);
  });

  it('illegal prefix from a flag names the flag', async () => {
    const error = await loadError({ cwd: await dirWith(), env: {}, flags: { prefix: 'Bad_Prefix!' } });
    expect(error.message).toMatch(/^--prefix: "prefix" must be 3-32 characters/);
  });

  it('region unknown for the cloud, with a suggestion', async () => {
    const error = await loadError({ cwd: await dirWith(), env: { MARKETPLACE_REGION: 'us-est-1' } });
    expect(error.message).toBe('MARKETPLACE_REGION: unknown aws region "us-est-1" (did you mean "us-east-1"?)');
  });

  it('region valid for another cloud is still rejected', async () => {
    const cwd = await dirWith('{\n  "cloud": "gcp",\n  "region": "us-east-2"\n}');
    const error = await loadError({ cwd, env: {} });
    expect(error.message).toMatch(/^marketplace\.config\.json:3: unknown gcp region "us-east-2"/);
  });

  it('invalid URL and port', async () => {
    const url = await loadError({ cwd: await dirWith(), env: { MARKETPLACE_CLOUD_API_URL: 'ftp://x' } });
    expect(url.message).toMatch(/"cloudApiUrl" must be an http\(s\) URL/);
    const port = await loadError({ cwd: await dirWith(), env: { MARKETPLACE_LOCAL_KAFKA_PORT: '70000' } });
    expect(port.message).toMatch(/"localKafkaPort" must be a TCP port; got "70000"/);
  });

  it('a --config path that does not exist', async () => {
    const error = await loadError({ cwd: await dirWith(), env: {}, configPath: 'nope.json' });
    expect(error.message).toMatch(/config file .*nope\.json does not exist/);
  });
});

describe('strict config values', () => {
  it.each([
    ['true', 'true'],
    ['[8]', '[8]'],
    ['3', '3'],
    ['4.5', '4.5'],
    ['"four"', '"four"'],
  ])('ksqlCsu %s in the file is refused', async (value, shown) => {
    const error = await loadError({ cwd: await dirWith(`{\n  "ksqlCsu": ${value}\n}`), env: {} });
    const expected = 'a whole number of CSUs (4, 8, 12 or 28; new clusters need at least 4)';
    expect(error.message).toBe(`marketplace.config.json:2: "ksqlCsu" must be ${expected}; got ${shown}`);
  });

  it('ksqlCsu takes a size Confluent Cloud offers, as a JSON number or as digits from a variable', async () => {
    expect((await loadConfig({ cwd: await dirWith('{"ksqlCsu": 12}'), env: {} })).values.ksqlCsu).toBe(12);
    expect((await loadConfig({ cwd: await dirWith('{"ksqlCsu": "8"}'), env: {} })).values.ksqlCsu).toBe(8);
    expect((await loadConfig({ cwd: await dirWith(), env: { MARKETPLACE_KSQL_CSU: ' 28 ' } })).values.ksqlCsu).toBe(28);
    const error = await loadError({ cwd: await dirWith(), env: { MARKETPLACE_KSQL_CSU: '2' } });
    expect(error.message).toMatch(/^MARKETPLACE_KSQL_CSU: "ksqlCsu" must be .*; got "2"$/);
  });

  it('a port given as true is refused, not read as port 1', async () => {
    const error = await loadError({ cwd: await dirWith('{"localKafkaPort": true}'), env: {} });
    expect(error.message).toMatch(/"localKafkaPort" must be a TCP port; got true/);
  });

  it('a number too large for a double is an error at its line, not null or Infinity', async () => {
    const error = await loadError({ cwd: await dirWith('{\n  "cloud": "aws",\n  "ksqlCsu": 1e400\n}'), env: {} });
    expect(error.message).toBe('marketplace.config.json:3:14: the number 1e400 is too large');
  });

  it.each(['__proto__', 'constructor', 'prototype'])('a "%s" key is refused, at any depth', async (key) => {
    const top = await loadError({ cwd: await dirWith(`{\n  "${key}": {"target": "local"}\n}`), env: {} });
    expect(top.message).toBe(`marketplace.config.json:2:3: the key "${key}" is not allowed`);
    expect(top.hint).toMatch(new RegExp(`Remove "${key}"`));
    const nested = await loadError({ cwd: await dirWith(`{"$schema": {"a": [{"${key}": 1}]}}`), env: {} });
    expect(nested.message).toMatch(/the key .* is not allowed/);
  });

  it('a key given twice is an error naming both lines, at any depth', async () => {
    const cwd = await dirWith('{\n  "prefix": "keep-me",\n  "target": "local",\n  "prefix": "delete-all"\n}');
    const error = await loadError({ cwd, env: {} });
    expect(error.message).toBe('marketplace.config.json:4:3: "prefix" is given twice, on lines 2 and 4');
    expect(error.hint).toMatch(/Keep one "prefix"/);
    const nested = await loadError({ cwd: await dirWith('{"$schema": {"a": 1,\n "a": 2}}'), env: {} });
    expect(nested.message).toMatch(/"a" is given twice, on lines 1 and 2/);
  });

  it('a leading byte order mark is ignored, and columns count without it', async () => {
    const { values, sources } = await loadConfig({ cwd: await dirWith('\ufeff{\n  "target": "local"\n}'), env: {} });
    expect(values.target).toBe('local');
    expect(sources.target).toMatchObject({ kind: 'file', line: 2 });
    const error = await loadError({ cwd: await dirWith('\ufeff{"target": local}'), env: {} });
    expect(error.message).toMatch(/^marketplace\.config\.json:1:12: not valid JSON/);
  });

  it('syntax errors are placed in characters, across CRLF line ends', async () => {
    const text = '{\r\n  "mongoUser": "ünï😀",\r\n  "prefix": "a", x\r\n}';
    const error = await loadError({ cwd: await dirWith(text), env: {} });
    expect(error.message).toMatch(/^marketplace\.config\.json:3:18: not valid JSON \(expected a "quoted" key/);
    const unterminated = await loadError({ cwd: await dirWith('{\r\n  "mongoUser": "😀é\r\n}'), env: {} });
    expect(unterminated.message).toMatch(/^marketplace\.config\.json:2:16: not valid JSON \(unterminated string/);
  });

  it('a config path that is a directory is named as such, with the fix', async () => {
    const cwd = await dirWith();
    await mkdir(join(cwd, 'conf'));
    const explicit = await loadError({ cwd, env: {}, configPath: 'conf' });
    expect(explicit.message).toBe(`config file ${join(cwd, 'conf')} is a directory`);
    expect(explicit.hint).toMatch(/Pass --config the path of a JSON file, such as .*conf\/marketplace\.config\.json/);
    await mkdir(join(cwd, 'marketplace.config.json'));
    const implicit = await loadError({ cwd, env: {} });
    expect(implicit.message).toMatch(/marketplace\.config\.json is a directory$/);
    expect(implicit.hint).toMatch(/Move that directory aside/);
  });
});
