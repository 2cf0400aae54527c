import { Injectable } from '@nestjs/common';

/** Where this instance is in its life: the readiness check and the shutdown both read it. */
@Injectable()
export class Lifecycle {
  private stopping = false;
  private closing = false;

  /** From the first shutdown signal on: the readiness check answers 503. */
  get shuttingDown(): boolean {
    return this.stopping;
  }

  /** Once the listener closes: requests still arriving on open connections get 503. */
  get refusingRequests(): boolean {
    return this.closing;
  }

  beginShutdown(): void {
    this.stopping = true;
  }

  beginRefusing(): void {
    this.stopping = true;
    this.closing = true;
  }
}
