import type { Output, Spinner } from '../core/output.js';
import type { DagEvent } from './dag.js';

/**
 * Live progress of a provisioning run: on a terminal one spinner line per running step with its elapsed time, and a
 * permanent line for each finished step; elsewhere (pipes, CI) one plain line per event and per status change.
 */
export class ProvisionProgress {
  private spinner: Spinner | undefined;
  private readonly running = new Map<string, { since: number; status: string }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: Output,
    private readonly titles: Map<string, string>,
    private readonly verb: { done: string; doing: string },
  ) {}

  async start(headline: string): Promise<void> {
    if (this.out.interactive && this.out.color && !this.out.json) {
      this.spinner = await this.out.spinner(headline);
      this.timer = setInterval(() => this.refresh(), 1000);
      this.timer.unref();
    } else {
      this.out.info(headline);
    }
  }

  onEvent = (event: DagEvent): void => {
    const title = this.titles.get(event.id) ?? event.id;
    const { green, red, dim } = this.out.paint;
    switch (event.type) {
      case 'start':
        this.running.set(event.id, { since: event.at, status: this.verb.doing });
        if (!this.spinner) this.out.info(`${dim('…')} ${title}`);
        break;
      case 'done':
        this.running.delete(event.id);
        this.line(`${green('✔')} ${title} ${dim(`(${seconds(event.elapsedMs)})`)}`);
        break;
      case 'failed':
        this.running.delete(event.id);
        this.line(`${red('✖')} ${title}: ${firstLine(event.error)}`);
        break;
      case 'skipped':
        this.line(`${dim('-')} ${title} ${dim(`(not started: ${event.reason})`)}`);
        break;
    }
    this.refresh();
  };

  status = (id: string, status: string): void => {
    const step = this.running.get(id);
    if (!step || step.status === status) return;
    const first = step.status === this.verb.doing;
    step.status = status;
    // On a pipe, the first status ("creating", "deleting") adds nothing to the line that announced the step.
    if (!this.spinner && !(first && /^(creating|deleting)$/.test(status)))
      this.out.info(`  ${this.titles.get(id) ?? id}: ${status}`);
    this.refresh();
  };

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.spinner?.stop();
    this.spinner = undefined;
  }

  private line(text: string): void {
    if (this.spinner) this.spinner.log(text);
    else this.out.info(text);
  }

  private refresh(): void {
    if (!this.spinner) return;
    const now = Date.now();
    const lines = [...this.running].map(
      ([id, step]) => `${this.titles.get(id) ?? id}: ${step.status} (${seconds(now - step.since)})`,
    );
    this.spinner.update(lines.length > 0 ? lines.join('\n  ') : this.verb.done);
  }
}

export function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
