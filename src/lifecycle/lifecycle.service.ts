import { Injectable } from '@nestjs/common';

/** Where this instance is in its life: the readiness check and the shutdown both read it. */
@Injectable()
export class Lifecycle {
  private stopping = false;

  /** From the first shutdown signal on: not ready, and new requests are refused with 503. */
  get shuttingDown(): boolean {
    return this.stopping;
  }

  beginShutdown(): void {
    this.stopping = true;
  }
}
