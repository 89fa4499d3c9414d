import { parseArgs } from 'node:util';
import { localKsqlBackend } from './ksql-backend.js';
import { startConfluentCloudEmulator, type EmulatorOptions } from './server.js';

const HELP = `Usage: npm run emulator:cloud -- [options]

A strict Confluent Cloud emulator for development: org/v2, cmk/v2, iam/v2 (service accounts, API keys, role
bindings), ksqldbcm/v2, Kafka REST v3 topics/ACLs, connect/v1, srcm/v3 and Schema Registry, fcpm/v2 and sql/v1
(Flink), validated against the official OpenAPI specs.
Listens on 127.0.0.1 only.

Options:
  --port N               port to listen on (default 8090; 0 picks a free one)
  --time-scale X         multiply every delay (cluster 2 min, ksqlDB 10 min, key/role binding 90 s, a ksqlDB
                         cluster's view of role bindings 60 s, deletes 1-2 min, a deleted topic's name 10 s) by X
  --public-url URL       base URL to advertise in links and endpoints (default http://127.0.0.1:<port>)
  --local-stack          back topics, keys, connectors, ksqlDB and (when it runs) Flink with the running local stack
  --log FILE             append every exchange (secrets masked) to FILE as JSON lines
  -h, --help             this help

The Cloud API key and secret it accepts are printed once on stdout. That is deliberate for this local dev tool:
nothing real is protected by them. Set CONFLUENT_EMULATOR_CLOUD_API_KEY / _SECRET to choose them yourself.
Point the CLI at it with MARKETPLACE_CLOUD_API_URL=<base URL> and CONFLUENT_CLOUD_API_KEY/SECRET.
Fault injection: POST <base URL>/__emulator/faults {"rules":[{"kind":"throttle","probability":0.2}]}.
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '8090' },
      'time-scale': { type: 'string', default: '1' },
      'public-url': { type: 'string' },
      'local-stack': { type: 'boolean', default: false },
      log: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const port = Number(values.port);
  const timeScale = Number(values['time-scale']);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a TCP port, got ${values.port}`);
  if (!(timeScale > 0)) throw new Error(`--time-scale must be a positive number, got ${values['time-scale']}`);

  const options: EmulatorOptions = { port, timeScale, publicUrl: values['public-url'], logFile: values.log };
  const key = process.env.CONFLUENT_EMULATOR_CLOUD_API_KEY;
  const secret = process.env.CONFLUENT_EMULATOR_CLOUD_API_SECRET;
  if (key && secret) options.cloudCredentials = { key, secret };
  if (values['local-stack']) {
    const { loadConfig } = await import('../../../src/core/config.js');
    const { localEndpoints } = await import('../../../src/local/stack.js');
    const { values: config } = await loadConfig({ cwd: process.cwd(), env: process.env });
    const stack = await localEndpoints(config, process.env);
    options.kafka = { plaintext: stack.kafka.plaintext, saslSsl: stack.kafka.saslSsl, users: stack.kafka.users };
    options.connect = { url: stack.connect.url, mongoUri: stack.ferretdb.uri };
    options.ksql = localKsqlBackend(stack.kafka.plaintext);
    // Flink statements run on the stack's Flink when it runs (`marketplace local start --with flink`).
    if (stack.flink) options.flink = stack.flink;
  }
  const emulator = await startConfluentCloudEmulator(options);
  process.stdout.write(
    `Confluent Cloud emulator listening on ${emulator.url}\n` +
      `MARKETPLACE_CLOUD_API_URL=${emulator.url}\n` +
      `CONFLUENT_CLOUD_API_KEY=${emulator.cloudCredentials.key}\n` +
      `CONFLUENT_CLOUD_API_SECRET=${emulator.cloudCredentials.secret}\n` +
      `spec validation: ${emulator.specs ? emulator.specs.dir : 'off (../shared/reference/openapi not found; own rules only)'}\n`,
  );
  const stop = () => {
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`confluent-cloud emulator: ${(error as Error).message}\n`);
  process.exit(1);
});
