import { UserError } from '../core/errors.js';
import { enc } from './environments.js';
import type { HttpCore } from './http.js';
import { orUndefinedIfGone } from './lookup.js';
import type { Connector, ConnectorStatus, ConnectorValidation } from './types.js';

/** connect/v1 managed connectors of one Kafka cluster. Addressed by name; lists are not paginated. */
export class Connectors {
  private readonly base: string;

  constructor(
    private readonly http: HttpCore,
    environmentId: string,
    kafkaClusterId: string,
  ) {
    this.base = `/connect/v1/environments/${enc(environmentId)}/clusters/${enc(kafkaClusterId)}`;
  }

  async list(): Promise<string[]> {
    return (await this.http.request<string[]>({ method: 'GET', path: `${this.base}/connectors` })).data;
  }

  async get(name: string): Promise<Connector> {
    return (await this.http.request<Connector>({ method: 'GET', path: `${this.base}/connectors/${enc(name)}` })).data;
  }

  findByName(name: string): Promise<Connector | undefined> {
    return orUndefinedIfGone(() => this.get(name));
  }

  /** The connector's id (lcc-…), which names what Confluent makes for it, such as its dead letter queue. */
  async id(name: string): Promise<string | undefined> {
    const expanded = await this.http.request<Record<string, { id?: { id?: string } }>>({
      method: 'GET',
      path: `${this.base}/connectors`,
      query: { expand: 'id' },
    });
    return expanded.data?.[name]?.id?.id;
  }

  /** Validates first (as Terraform does) so a bad config fails with every problem listed, not a late FAILED. */
  async create(name: string, config: Record<string, string>): Promise<Connector> {
    const full: Record<string, string> = { ...config, name };
    const pluginClass = full['connector.class'];
    if (pluginClass) await this.assertValid(pluginClass, full);
    const response = await this.http.request<Connector>({
      method: 'POST',
      path: `${this.base}/connectors`,
      body: { name, config: full },
      recover: () => this.findByName(name),
    });
    return response.data;
  }

  /** Create-or-update: idempotent. */
  async updateConfig(name: string, config: Record<string, string>): Promise<Connector> {
    const response = await this.http.request<Connector>({
      method: 'PUT',
      path: `${this.base}/connectors/${enc(name)}/config`,
      body: { ...config, name },
    });
    return response.data;
  }

  async status(name: string): Promise<ConnectorStatus> {
    return (
      await this.http.request<ConnectorStatus>({ method: 'GET', path: `${this.base}/connectors/${enc(name)}/status` })
    ).data;
  }

  async pause(name: string): Promise<void> {
    await this.http.request({ method: 'PUT', path: `${this.base}/connectors/${enc(name)}/pause` });
  }

  async resume(name: string): Promise<void> {
    await this.http.request({ method: 'PUT', path: `${this.base}/connectors/${enc(name)}/resume` });
  }

  async delete(name: string): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `${this.base}/connectors/${enc(name)}` });
  }

  async validate(pluginClass: string, config: Record<string, string>): Promise<ConnectorValidation> {
    const response = await this.http.request<ConnectorValidation>({
      method: 'PUT',
      path: `${this.base}/connector-plugins/${enc(pluginClass)}/config/validate`,
      body: config,
    });
    return response.data;
  }

  private async assertValid(pluginClass: string, config: Record<string, string>): Promise<void> {
    const result = await this.validate(pluginClass, config);
    if (result.error_count === 0) return;
    const problems = result.configs.flatMap((entry) =>
      entry.value.errors.map((error) => `${entry.value.name}: ${error}`),
    );
    throw new UserError(`connector ${config['name']} config is invalid: ${problems.join('; ')}`, {
      hint: 'Fix the connector settings named above (marketplace init shows the Mongo settings) and run the command again.',
    });
  }
}
