import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UserError } from '../core/errors.js';

const run = promisify(execFile);

export type Tool = 'java' | 'mvn' | 'go' | 'openssl';

const HOW_TO_INSTALL: Record<Tool, string> = {
  java: 'a JDK 17+ (apt-get install openjdk-17-jdk-headless)',
  mvn: 'Maven 3.6+ (apt-get install maven)',
  go: 'Go 1.24+ (https://go.dev/dl, then put its bin/ on PATH)',
  openssl: 'OpenSSL (apt-get install openssl)',
};

const VERSION_ARGS: Record<Tool, string[]> = {
  java: ['-version'],
  mvn: ['-v'],
  go: ['version'],
  openssl: ['version'],
};

/** Runs `<tool> <version flag>`; resolves to its output, or undefined when the tool is not on PATH. */
export async function toolVersion(tool: Tool, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await run(tool, VERSION_ARGS[tool], { env, timeout: 30_000 });
    return `${stdout}${stderr}`
      .trim()
      .split('\n')[0]
      ?.replace(/\u001b\[[0-9;]*m/g, '');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Fails with one line naming every missing tool and how to get it (exit 2). */
export async function requireTools(
  tools: Tool[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  const missing: Tool[] = [];
  for (const tool of [...new Set(tools)]) {
    const version = await toolVersion(tool, env);
    if (version === undefined) missing.push(tool);
    else versions[tool] = version;
  }
  if (missing.length > 0) {
    throw new UserError(`${missing.join(', ')} not found on PATH (needed by the local stack)`, {
      hint: `Install ${missing.map((tool) => HOW_TO_INSTALL[tool]).join('; and ')}.`,
    });
  }
  const go = versions.go ? /go(\d+)\.(\d+)/.exec(versions.go) : null;
  if (go && (Number(go[1]) < 1 || (Number(go[1]) === 1 && Number(go[2]) < 24))) {
    throw new UserError(`${versions.go} is too old to build FerretDB v1.24`, { hint: `Install ${HOW_TO_INSTALL.go}.` });
  }
  return versions;
}
